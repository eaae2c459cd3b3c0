//! Folders and their operations, without a protocol.

use std::sync::Arc;

use rstest::rstest;

use super::*;

#[rstest]
#[case::star_matches_everything("*", "Calendar/Birthdays", true)]
#[case::percent_stops_at_the_delimiter("%", "Calendar/Birthdays", false)]
#[case::percent_then_level("%/%", "Calendar/Birthdays", true)]
#[case::letters_ignore_case("inbox", "INBOX", true)]
#[case::literal_must_match_whole("Sent", "Sent Items", false)]
#[case::inner_star("S*s", "Sent Items", true)]
#[case::empty_pattern_names_nothing("", "INBOX", false)]
fn list_patterns(#[case] pattern: &str, #[case] name: &str, #[case] expected: bool) {
    assert_eq!(matches(pattern, name), expected);
}

#[test]
fn a_hostile_pattern_is_answered_at_once() {
    let pattern = "*a".repeat(5000);
    let name = "a".repeat(MAX_NAME_LEN);
    assert!(matches(&pattern[..2000], &name) || !matches(&pattern[..2000], &name));
}

#[test]
fn creating_renaming_and_deleting_keep_the_tree_whole() {
    let mut mailbox = Mailbox::new("adele@contoso.com", 100);
    assert_eq!(mailbox.folders().count(), DEFAULT_FOLDERS.len());
    mailbox.create("a/b/c").unwrap();
    assert!(mailbox.folder("a").is_some() && mailbox.folder("a/b").is_some());
    assert_eq!(mailbox.create("A/B"), Err(FolderError::Exists));
    assert_eq!(mailbox.create("x//y"), Err(FolderError::InvalidName));
    assert_eq!(mailbox.create("x*"), Err(FolderError::InvalidName));
    let data: Arc<[u8]> = b"Subject: x\r\n\r\n".as_slice().into();
    mailbox.append("a/b", data.clone(), Flags::default(), 0).unwrap();
    mailbox.rename("a", "z/a").unwrap();
    assert!(mailbox.folder("a").is_none());
    assert_eq!(mailbox.folder("z/a/b").unwrap().messages.len(), 1);
    assert!(mailbox.folder("z/a/b/c").is_some());
    assert_eq!(mailbox.delete("Sent Items"), Err(FolderError::Default));
    let before = mailbox.bytes;
    mailbox.delete("z").unwrap();
    assert!(mailbox.folder("z/a/b").is_none());
    assert_eq!(mailbox.bytes, before - data.len() as u64);
}

#[test]
fn renaming_the_inbox_moves_its_messages_and_leaves_it_empty() {
    // RFC 9051 §6.3.6.
    let mut mailbox = Mailbox::new("adele@contoso.com", 100);
    let data: Arc<[u8]> = b"Subject: x\r\n\r\n".as_slice().into();
    mailbox.append(INBOX, data, Flags::SEEN, 0).unwrap();
    mailbox.rename("inbox", "Old").unwrap();
    assert!(mailbox.folder(INBOX).unwrap().messages.is_empty());
    assert_eq!(mailbox.folder("Old").unwrap().messages[0].flags, Flags::SEEN);
}

#[test]
fn uids_are_never_reused_and_a_new_folder_gets_a_new_uidvalidity() {
    let mut mailbox = Mailbox::new("adele@contoso.com", 100);
    let data: Arc<[u8]> = b"x".as_slice().into();
    mailbox.create("t").unwrap();
    let (first_validity, first) = mailbox.append("t", data.clone(), Flags::default(), 0).unwrap();
    mailbox.remove("t", &[first]);
    let (_, second) = mailbox.append("t", data.clone(), Flags::default(), 0).unwrap();
    assert!(second > first);
    mailbox.delete("t").unwrap();
    mailbox.create("t").unwrap();
    let (validity, uid) = mailbox.append("t", data, Flags::default(), 0).unwrap();
    assert!(
        validity > first_validity,
        "RFC 9051 §2.3.1.1: a recreated folder gets a new UIDVALIDITY"
    );
    assert_eq!(uid, 1);
}

#[test]
fn the_folder_limit_holds() {
    let mut mailbox = Mailbox::new("adele@contoso.com", 100);
    let room = MAX_FOLDERS - mailbox.folders().count();
    for index in 0..room {
        mailbox.create(&format!("f{index}")).unwrap();
    }
    assert_eq!(mailbox.create("one/more"), Err(FolderError::TooMany));
}
