//! ENVELOPE, BODYSTRUCTURE and sections of stored messages, encoded as IMAP sends them.

use imap_codec::ResponseCodec;
use imap_codec::encode::Encoder;
use imap_codec::imap_types::core::NonEmptyVec;
use imap_codec::imap_types::fetch::{MessageDataItem, Part, Section};
use imap_codec::imap_types::response::{Data, Response};

use super::Parsed;

const MULTIPART: &[u8] = b"From: Adele Vance <adele@contoso.com>\r\n\
To: info@contoso.com, \"Lee, Grady\" <grady@contoso.com>\r\n\
Subject: =?utf-8?q?caf=C3=A9?=\r\n\
Date: Wed, 02 Dec 2026 09:00:00 +0000\r\n\
Message-ID: <1@contoso.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hello\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
Subject: inner\r\n\
\r\n\
inner body\r\n\
--b1--\r\n";

fn encoded(item: MessageDataItem<'_>) -> String {
    let response = Response::Data(Data::Fetch {
        seq: std::num::NonZeroU32::new(1).unwrap(),
        items: NonEmptyVec::from(item),
    });
    String::from_utf8(ResponseCodec::default().encode(&response).dump()).unwrap()
}

fn part(numbers: &[u32]) -> Part {
    Part(
        NonEmptyVec::try_from(
            numbers
                .iter()
                .map(|number| std::num::NonZeroU32::new(*number).unwrap())
                .collect::<Vec<_>>(),
        )
        .unwrap(),
    )
}

#[test]
fn a_multipart_messages_structure_and_envelope() {
    let parsed = Parsed::new(MULTIPART);
    assert_eq!(
        encoded(MessageDataItem::Envelope(parsed.envelope())),
        "* 1 FETCH (ENVELOPE (\"Wed, 02 Dec 2026 09:00:00 +0000\" \"=?utf-8?q?caf=C3=A9?=\" ((\"Adele Vance\" NIL \"adele\" \"contoso.com\")) ((\"Adele Vance\" NIL \"adele\" \"contoso.com\")) ((\"Adele Vance\" NIL \"adele\" \"contoso.com\")) ((NIL NIL \"info\" \"contoso.com\")(\"Lee, Grady\" NIL \"grady\" \"contoso.com\")) NIL NIL NIL \"<1@contoso.com>\"))\r\n"
    );
    assert_eq!(
        encoded(MessageDataItem::Body(parsed.structure(false))),
        "* 1 FETCH (BODY ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 5 1)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 28 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1) 3) \"MIXED\"))\r\n"
    );
}

#[test]
fn sections_are_slices_of_the_stored_octets() {
    let parsed = Parsed::new(MULTIPART);
    // RFC 2046 §5.1.1: the CRLF before a boundary belongs to the boundary.
    assert_eq!(&*parsed.section(Some(&Section::Part(part(&[1])))), b"Hello");
    assert_eq!(
        &*parsed.section(Some(&Section::Mime(part(&[1])))),
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    assert_eq!(
        &*parsed.section(Some(&Section::Header(Some(part(&[2]))))),
        b"Subject: inner\r\n\r\n"
    );
    assert_eq!(
        &*parsed.section(Some(&Section::Text(Some(part(&[2]))))),
        b"inner body"
    );
    assert_eq!(
        &*parsed.section(Some(&Section::Part(part(&[2, 1])))),
        b"inner body"
    );
    assert!(
        parsed.section(Some(&Section::Part(part(&[3])))).is_empty(),
        "no part 3: an empty section"
    );
    let fields =
        NonEmptyVec::try_from(vec!["subject".try_into().unwrap(), "TO".try_into().unwrap()]).unwrap();
    assert_eq!(
        &*parsed.section(Some(&Section::HeaderFields(None, fields))),
        b"To: info@contoso.com, \"Lee, Grady\" <grady@contoso.com>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\n"
    );
    assert_eq!(&*parsed.section(None), MULTIPART);
}

#[test]
fn a_message_that_is_not_mime_is_one_text_part() {
    // RFC 9051 §6.4.5: a non-MIME message has a part 1, its body.
    let parsed = Parsed::new(b"Subject: x\r\n\r\nplain");
    assert_eq!(&*parsed.section(Some(&Section::Part(part(&[1])))), b"plain");
    let parsed = Parsed::new(b"");
    assert!(parsed.section(Some(&Section::Text(None))).is_empty());
}
