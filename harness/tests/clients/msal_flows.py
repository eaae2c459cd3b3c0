"""MSAL Python (from PyPI) against `mailscope serve`: a token by device code, a second from the
cache with acquire_token_silent, a third by the refresh token (force_refresh), then the
authorization code flow with MSAL's state and nonce checks, its browser played by requests.

    REQUESTS_CA_BUNDLE=STATE_DIR/ca.pem python msal_flows.py STATE_DIR
"""

import json
import sys
import urllib.parse

import msal
import requests

state = sys.argv[1]
d = json.load(open(f"{state}/endpoints.json"))
client = next(app for app in d["apps"] if app["name"] == "mail-client")
user = d["users"][0]["upn"]
scopes = ["https://outlook.office.com/IMAP.AccessAsUser.All"]
authority = d["authority"] + "/organizations"

app = msal.PublicClientApplication(client["client_id"], authority=authority, instance_discovery=False)
flow = app.initiate_device_flow(scopes=scopes)
assert "user_code" in flow, flow
first = app.acquire_token_by_device_flow(flow)
assert "access_token" in first, first
assert first["id_token_claims"]["preferred_username"] == user, first["id_token_claims"]
accounts = app.get_accounts()
assert [account["username"] for account in accounts] == [user], accounts
second = app.acquire_token_silent(scopes, account=accounts[0])
assert second and second.get("token_source") == "cache", second
third = app.acquire_token_silent(scopes, account=accounts[0], force_refresh=True)
assert third and third.get("token_source") == "identity_provider", third
assert third["access_token"] != first["access_token"]

# The authorization code flow: MSAL sends state and a hashed nonce, and checks both.
browser_app = msal.PublicClientApplication(client["client_id"], authority=authority, instance_discovery=False)
flow = browser_app.initiate_auth_code_flow(scopes, redirect_uri=client["redirect_uri"], login_hint=user)
redirect = requests.get(flow["auth_uri"], allow_redirects=False, timeout=30)
assert redirect.status_code == 302, (redirect.status_code, redirect.text)
query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(redirect.headers["Location"]).query))
by_code = browser_app.acquire_token_by_auth_code_flow(flow, query)
assert "access_token" in by_code, by_code
silent = browser_app.acquire_token_silent(scopes, account=browser_app.get_accounts()[0])
assert silent and silent.get("token_source") == "cache", silent
print("msal ok", accounts[0]["home_account_id"])
