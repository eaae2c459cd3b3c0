"""A whole round trip through `mailscope serve` with Python's standard library only.

smtplib sends with an Outlook token while an imaplib session IDLEs on the INBOX; the IDLE must be
told `* 1 EXISTS`; a second imaplib session fetches the very bytes sent, APPENDs a message with a
synchronizing literal and fetches it back byte for byte, and LISTs the folders; poplib RETRs the
message. Any difference is an AssertionError naming it.

    python3 round_trip.py STATE_DIR TOKEN
"""

import base64
import imaplib
import json
import poplib
import smtplib
import ssl
import sys

state_dir, token = sys.argv[1], sys.argv[2]
endpoints = json.load(open(f"{state_dir}/endpoints.json"))
user = endpoints["users"][0]["upn"]
context = ssl.create_default_context(cafile=endpoints["ca_file"])
host, imap_port = endpoints["imap"].rsplit(":", 1)
smtp_port = endpoints["smtp"].rsplit(":", 1)[1]
pop3_port = endpoints["pop3"].rsplit(":", 1)[1]
xoauth2 = f"user={user}\x01auth=Bearer {token}\x01\x01"


def imap():
    session = imaplib.IMAP4_SSL(host, int(imap_port), ssl_context=context, timeout=30)
    session.authenticate("XOAUTH2", lambda _: xoauth2.encode())
    return session


# An IDLE opened before the message is sent.
idler = imap()
idler.select("INBOX")
tag = idler._new_tag().decode()
idler.send(f"{tag} IDLE\r\n".encode())
continuation = idler.readline()
assert continuation == b"+ IDLE accepted, awaiting DONE command.\r\n", continuation

message = (
    f"From: {user}\r\nTo: {user}\r\nSubject: round trip\r\nMessage-ID: <round-trip@mailscope.test>\r\n\r\n"
    "Hello from smtplib.\r\n.A line that starts with a dot.\r\n"
).encode()
smtp = smtplib.SMTP(host, int(smtp_port), timeout=30)
smtp.starttls(context=context)
smtp.ehlo()
smtp.auth("XOAUTH2", lambda challenge=None: xoauth2, initial_response_ok=True)
refused = smtp.sendmail(user, [user], message)
assert refused == {}, refused
smtp.quit()

pushed = idler.readline()
assert pushed == b"* 1 EXISTS\r\n", pushed
idler.send(b"DONE\r\n")
done = idler.readline()
assert done == f"{tag} OK IDLE completed.\r\n".encode(), done
idler.logout()

reader = imap()
status, data = reader.select("INBOX")
assert (status, data) == ("OK", [b"1"]), (status, data)
status, data = reader.fetch("1", "(BODY.PEEK[])")
assert status == "OK" and data[0][1] == message, data
status, data = reader.fetch("1", "(BODY.PEEK[TEXT])")
assert data[0][1] == message.split(b"\r\n\r\n", 1)[1], data

# APPEND with a synchronizing literal: imaplib waits for the server's `+`.
draft = b"From: someone@example.org\r\nSubject: uploaded\r\n\r\nUploaded with APPEND.\r\n"
status, data = reader.append("Drafts", "(\\Seen)", None, draft)
assert status == "OK" and data[0].startswith(b"[APPENDUID "), (status, data)
reader.select("Drafts")
status, data = reader.fetch("1", "(BODY.PEEK[] FLAGS)")
assert data[0][1] == draft, data
assert b"\\Seen" in data[1], data

status, folders = reader.list('""', "*")
names = [line.rsplit(b' "/" ', 1)[1].strip(b'"').decode() for line in folders]
for wanted in ("INBOX", "Sent Items", "Drafts", "Deleted Items", "Junk Email"):
    assert wanted in names, (wanted, names)
status, nothing = reader.list('""', "Nope")
assert status == "OK" and nothing == [None], nothing
status, data = reader.status('"Sent Items"', "(MESSAGES)")
assert data == [b'"Sent Items" (MESSAGES 1)'], data
reader.logout()

pop = poplib.POP3_SSL(host, int(pop3_port), context=context, timeout=30)
pop._shortcmd("AUTH XOAUTH2")
pop._shortcmd(base64.b64encode(xoauth2.encode()).decode())
count, size = pop.stat()
assert (count, size) == (1, len(message)), (count, size)
response, lines, octets = pop.retr(1)
assert b"\r\n".join(lines) + b"\r\n" == message, lines
pop.quit()
print("round trip ok")
