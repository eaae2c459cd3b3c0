//! Mail a cloud starts with: a directory with, for each mailbox, a folder of `.eml` files (its
//! INBOX; subfolders name other folders) or an mbox file (`ADDRESS.mbox`, into its INBOX).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::mailbox::{FolderError, INBOX};
use super::message::Flags;
use super::shared::{Store, StoreError};

/// Why seeding stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An entry names no mailbox of the tenant, or a folder that cannot exist.
    #[error("{path}: {message}")]
    Invalid {
        /// The entry.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> SeedError + '_ {
    move |source| SeedError::Read {
        path: path.to_owned(),
        source,
    }
}

/// Puts every message under `directory` into `store`; returns how many.
pub(crate) fn seed(store: &Store, directory: &Path, now: i64) -> Result<usize, SeedError> {
    let mut count = 0;
    for entry in sorted_entries(directory)? {
        let name = entry
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_owned();
        if entry.is_dir() {
            if !store.has_mailbox(&name) {
                return Err(not_a_mailbox(&entry, &name));
            }
            count += seed_folder(store, &name, INBOX, &entry, now)?;
        } else if let Some(address) = name.strip_suffix(".mbox") {
            if !store.has_mailbox(address) {
                return Err(not_a_mailbox(&entry, address));
            }
            count += seed_mbox(store, address, &entry, now)?;
        } else {
            return Err(SeedError::Invalid {
                path: entry,
                message: "expected a directory named after a mailbox, or ADDRESS.mbox".into(),
            });
        }
    }
    Ok(count)
}

fn not_a_mailbox(path: &Path, address: &str) -> SeedError {
    SeedError::Invalid {
        path: path.to_owned(),
        message: format!(
            "`{address}` is not a mailbox of the tenant (a user, or a shared mailbox a user has full_access on)"
        ),
    }
}

fn sorted_entries(directory: &Path) -> Result<Vec<PathBuf>, SeedError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(read_error(directory))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .map_err(read_error(directory))?;
    entries.retain(|path| {
        !path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.'))
    });
    entries.sort();
    Ok(entries)
}

/// The `.eml` files of `directory` into `folder`; subdirectories into subfolders.
fn seed_folder(
    store: &Store,
    address: &str,
    folder: &str,
    directory: &Path,
    now: i64,
) -> Result<usize, SeedError> {
    let mut count = 0;
    for entry in sorted_entries(directory)? {
        let name = entry
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        if entry.is_dir() {
            if !name.is_ascii() {
                return Err(SeedError::Invalid {
                    path: entry.clone(),
                    message: "a folder name in a seed must be ASCII (IMAP's modified UTF-7)".into(),
                });
            }
            let child = if folder == INBOX && directory_is_mailbox_root(directory, address) {
                name.to_owned()
            } else {
                format!("{folder}/{name}")
            };
            let created = store.write(address, |mailbox, _| match mailbox.create(&child) {
                Ok(()) | Err(FolderError::Exists) => Ok(()),
                Err(error) => Err(error),
            });
            if !matches!(created, Some(Ok(()))) {
                return Err(SeedError::Invalid {
                    path: entry,
                    message: format!("`{child}` cannot be a folder name"),
                });
            }
            count += seed_folder(store, address, &child, &entry, now)?;
        } else if name.ends_with(".eml") {
            let data = std::fs::read(&entry).map_err(read_error(&entry))?;
            let date = std::fs::metadata(&entry)
                .and_then(|metadata| metadata.modified())
                .ok()
                .and_then(|modified| modified.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(now, |since| i64::try_from(since.as_secs()).unwrap_or(now));
            put(store, address, folder, &data, date, &entry)?;
            count += 1;
        }
    }
    Ok(count)
}

fn directory_is_mailbox_root(directory: &Path, address: &str) -> bool {
    directory
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.eq_ignore_ascii_case(address))
}

fn seed_mbox(store: &Store, address: &str, path: &Path, now: i64) -> Result<usize, SeedError> {
    let file = std::fs::File::open(path).map_err(read_error(path))?;
    let mut count = 0;
    for message in mail_parser::mailbox::mbox::MessageIterator::new(std::io::BufReader::new(file)) {
        let message = message.map_err(read_error(path))?;
        let date = i64::try_from(message.internal_date())
            .ok()
            .filter(|date| *date > 0)
            .unwrap_or(now);
        put(store, address, INBOX, message.contents(), date, path)?;
        count += 1;
    }
    Ok(count)
}

fn put(
    store: &Store,
    address: &str,
    folder: &str,
    data: &[u8],
    date: i64,
    path: &Path,
) -> Result<(), SeedError> {
    let data: Arc<[u8]> = crlf(data).into();
    store
        .append(address, folder, data, Flags::default(), date)
        .map(|_| ())
        .map_err(|error| SeedError::Invalid {
            path: path.to_owned(),
            message: match error {
                StoreError::Full => "the mail store is full (serve --mail-store-limit)".into(),
                other => format!("cannot be stored: {other:?}"),
            },
        })
}

/// Lines end in CRLF on the wire; files on disk often end them in LF alone.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 40);
    let mut previous = 0u8;
    for &byte in data {
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        previous = byte;
    }
    out
}

#[cfg(test)]
mod tests {

    use super::{crlf, seed};
    use crate::store::shared::Store;

    #[test]
    fn eml_folders_and_mbox_files_fill_their_mailboxes() {
        let directory = tempfile::tempdir().unwrap();
        let adele = directory.path().join("adele@contoso.com");
        std::fs::create_dir_all(adele.join("Projects")).unwrap();
        std::fs::write(adele.join("1.eml"), "Subject: one\n\nfirst\n").unwrap();
        std::fs::write(
            adele.join("Projects").join("2.eml"),
            "Subject: two\r\n\r\nsecond\r\n",
        )
        .unwrap();
        std::fs::write(
            directory.path().join("info@contoso.com.mbox"),
            "From a@b Sat Jan  3 01:05:34 1996\nSubject: three\n\n>From the start\n\nFrom c@d Sat Jan  3 01:05:35 1996\nSubject: four\n\nx\n",
        )
        .unwrap();
        let store = Store::new(
            ["adele@contoso.com".into(), "info@contoso.com".into()],
            1 << 20,
            0,
        );
        assert_eq!(seed(&store, directory.path(), 0).unwrap(), 4);
        store
            .read("adele@contoso.com", |mailbox| {
                assert_eq!(
                    &*mailbox.folder("INBOX").unwrap().messages[0].data,
                    b"Subject: one\r\n\r\nfirst\r\n"
                );
                assert_eq!(mailbox.folder("Projects").unwrap().messages.len(), 1);
            })
            .unwrap();
        store
            .read("info@contoso.com", |mailbox| {
                let inbox = mailbox.folder("INBOX").unwrap();
                assert_eq!(inbox.messages.len(), 2);
                assert!(
                    inbox.messages[0]
                        .data
                        .windows(15)
                        .any(|window| window == b"From the start\r")
                );
                assert_eq!(inbox.messages[0].internal_date, 820_631_134);
            })
            .unwrap();
    }

    #[test]
    fn an_unknown_mailbox_is_named() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(directory.path().join("nobody@contoso.com")).unwrap();
        let store = Store::new(["adele@contoso.com".into()], 1 << 20, 0);
        let error = seed(&store, directory.path(), 0).unwrap_err().to_string();
        assert!(
            error.contains("nobody@contoso.com") && error.contains("not a mailbox"),
            "{error}"
        );
    }

    #[test]
    fn bare_line_feeds_become_crlf() {
        assert_eq!(crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
    }
}
