use base64::Engine as _;

use super::*;

fn jwt(header: &str, claims: &str) -> String {
    let encode = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    format!("{}.{}.c2lnbmF0dXJl", encode(header), encode(claims))
}

fn microsoft_signed(claims: &str) -> String {
    jwt(
        r#"{"alg":"RS256","typ":"JWT","kid":"not-mailscopes-key"}"#,
        claims,
    )
}

const OUTLOOK: &str = r#"{"aud":"https://outlook.office.com","iss":"https://sts.windows.net/t1/","tid":"t1","iat":1000,"nbf":1000,"exp":5000,"appid":"a","appidacr":"0","oid":"o","sub":"s","ver":"1.0","upn":"adele@contoso.onmicrosoft.com","scp":"SMTP.Send IMAP.AccessAsUser.All"}"#;
const GRAPH: &str = r#"{"aud":"00000003-0000-0000-c000-000000000000","iss":"https://sts.windows.net/t1/","tid":"t1","iat":1000,"nbf":1000,"exp":5000,"appid":"a","appidacr":"0","oid":"o","sub":"s","ver":"1.0","upn":"adele@contoso.onmicrosoft.com","scp":"Mail.Send SMTP.Send"}"#;

fn verdicts(decoded: &Decoded) -> Vec<(&'static str, bool)> {
    let Decoded::Jwt(explanation) = decoded else {
        panic!("a JWT: {decoded:?}")
    };
    explanation
        .verdicts
        .iter()
        .map(|(protocol, verdict)| (protocol.name(), verdict.is_ok()))
        .collect()
}

#[test]
fn a_graph_token_is_refused_everywhere_with_the_outlook_scopes_as_advice() {
    let token = microsoft_signed(GRAPH);

    let decoded = decode(&token, 2000);

    assert_eq!(
        verdicts(&decoded),
        [("SMTP", false), ("IMAP", false), ("POP3", false)]
    );
    assert_eq!(decoded.exit_status(), 1);
    let rendered = render(&decoded);
    assert!(
        rendered.contains("https://outlook.office.com/SMTP.Send"),
        "{rendered}"
    );
    assert!(rendered.contains("[exchange-audiences]"), "{rendered}");
    assert!(!rendered.contains(&token), "the token is never echoed");
}

#[test]
fn an_outlook_token_passes_where_its_scopes_allow_and_the_signature_is_not_claimed() {
    let decoded = decode(&microsoft_signed(OUTLOOK), 2000);

    assert_eq!(
        verdicts(&decoded),
        [("SMTP", true), ("IMAP", true), ("POP3", false)]
    );
    assert_eq!(decoded.exit_status(), 0);
    assert!(render(&decoded).contains("cannot be verified"));
}

#[test]
fn unsigned_and_hmac_tokens_are_never_called_acceptable() {
    for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"HS256","typ":"JWT"}"#] {
        let decoded = decode(&jwt(header, OUTLOOK), 2000);

        assert_eq!(
            verdicts(&decoded),
            [("SMTP", false), ("IMAP", false), ("POP3", false)],
            "{header}"
        );
        assert_eq!(decoded.exit_status(), 1);
    }
}

#[test]
fn reads_what_users_paste() {
    let token = microsoft_signed(OUTLOOK);
    let xoauth2 = format!("user=adele@contoso.onmicrosoft.com\x01auth=Bearer {token}\x01\x01");
    let base64 = base64::engine::general_purpose::STANDARD.encode(&xoauth2);
    let oauthbearer = format!("n,a=adele@contoso.onmicrosoft.com,\x01auth=Bearer {token}\x01\x01");

    for (pasted, form, user) in [
        (token.clone(), "a JWT", None),
        (format!("Bearer {token}"), "a Bearer credential", None),
        (
            format!("Authorization: Bearer {token}"),
            "a Bearer credential",
            None,
        ),
        (
            base64.clone(),
            "an XOAUTH2 response (base64)",
            Some("adele@contoso.onmicrosoft.com"),
        ),
        (
            xoauth2.replace('\x01', "^A"),
            "an XOAUTH2 response",
            Some("adele@contoso.onmicrosoft.com"),
        ),
        (
            base64::engine::general_purpose::STANDARD.encode(&oauthbearer),
            "an OAUTHBEARER response (base64)",
            Some("adele@contoso.onmicrosoft.com"),
        ),
        (token.replace('.', "%2E"), "a URL-encoded JWT", None),
    ] {
        let input = read_input(&pasted).unwrap();
        assert_eq!((input.form, input.user.as_deref()), (form, user), "{form}");
        assert_eq!(input.token, token, "{form}");
        assert_eq!(decode(&pasted, 2000).exit_status(), 0, "{form}");
    }
}

#[test]
fn a_user_that_is_not_the_tokens_is_named() {
    let token = microsoft_signed(OUTLOOK);
    let pasted = format!("user=info@contoso.onmicrosoft.com\x01auth=Bearer {token}\x01\x01");

    let rendered = render(&decode(&pasted, 2000));

    assert!(
        rendered.contains("user=info@contoso.onmicrosoft.com is not the token's user"),
        "{rendered}"
    );
}

#[test]
fn garbage_and_empty_input_are_not_tokens_and_opaque_tokens_are_recognised() {
    assert_eq!(decode("hello", 0), Decoded::NotAToken);
    assert_eq!(decode("", 0).exit_status(), 2);
    assert_eq!(decode("  \n", 0).exit_status(), 2);
    assert!(matches!(
        decode("EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA0123456789abcdef", 0),
        Decoded::Opaque(_)
    ));
}

#[test]
fn expired_tokens_are_refused_with_the_time() {
    let decoded = decode(&microsoft_signed(OUTLOOK), 100_000);

    assert_eq!(decoded.exit_status(), 1);
    let rendered = render(&decoded);
    assert!(rendered.contains("expired at 5000"), "{rendered}");
}
