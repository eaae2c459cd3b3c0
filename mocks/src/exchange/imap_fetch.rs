//! What IMAP's FETCH and SEARCH see of a stored message (RFC 9051 §6.4.5, §7.5.2): its MIME
//! structure, parsed by mail-parser, turned into ENVELOPE and BODYSTRUCTURE, and the octets of a
//! body section. The message itself is never changed: every section is a slice of the bytes that
//! were delivered or appended.

use std::borrow::Cow;
use std::ops::Range;

use imap_codec::imap_types::body::{
    BasicFields, Body, BodyStructure, Disposition, Language, Location, MultiPartExtensionData,
    SinglePartExtensionData, SpecificFields,
};
use imap_codec::imap_types::core::{IString, NString, NonEmptyVec};
use imap_codec::imap_types::envelope::{Address, Envelope};
use imap_codec::imap_types::fetch::Section;
use mail_parser::{MessageParser, MimeHeaders, PartType};

/// How deep message/rfc822 parts are followed; deeper ones are plain parts.
const MAX_DEPTH: usize = 16;

/// The content headers of one MIME part, with RFC 2045's defaults filled in.
#[derive(Debug, Clone)]
struct Fields {
    r#type: String,
    subtype: String,
    parameters: Vec<(String, String)>,
    id: Option<String>,
    description: Option<String>,
    encoding: String,
    md5: Option<String>,
    disposition: Option<(String, Vec<(String, String)>)>,
    language: Vec<String>,
    location: Option<String>,
}

/// What a part holds.
#[derive(Debug, Clone)]
enum Kind {
    /// Anything but text, a message or a multipart.
    Basic,
    /// `text/*`.
    Text,
    /// `message/rfc822`: the encapsulated message and its envelope.
    Message(Box<Node>, Box<Envelope<'static>>),
    /// `multipart/*`.
    Multipart(Vec<Node>),
}

/// One part: where its header and body lie in the message, and what it is.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    header: Range<usize>,
    body: Range<usize>,
    fields: Fields,
    kind: Kind,
}

/// A stored message, parsed once for a FETCH or SEARCH.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    raw: &'a [u8],
    root: Node,
    envelope: Envelope<'static>,
}

fn clamp(range: Range<usize>, len: usize) -> Range<usize> {
    let end = range.end.min(len);
    range.start.min(end)..end
}

fn nstring(value: Option<&str>) -> NString<'static> {
    value
        .and_then(|value| NString::try_from(value.to_owned()).ok())
        .unwrap_or(NString(None))
}

fn istring(value: &str) -> IString<'static> {
    IString::try_from(value.to_owned())
        .or_else(|_| IString::try_from(value.replace('\0', "")))
        .unwrap_or_else(|_| {
            IString::try_from(String::new()).expect("the empty string is a valid quoted string")
        })
}

/// A header's raw value, unfolded and trimmed (RFC 5322 §2.2.3).
fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.trim().chars().peekable();
    while let Some(character) = chars.next() {
        if character == '\r' || character == '\n' {
            while chars.peek().is_some_and(|next| matches!(next, '\r' | '\n')) {
                chars.next();
            }
            continue;
        }
        out.push(character);
    }
    out
}

fn fields_of(part: &mail_parser::MessagePart<'_>, default_type: (&str, &str)) -> Fields {
    let content_type = part.content_type();
    let (r#type, subtype) = match content_type {
        Some(content_type) => (
            content_type.c_type.to_ascii_uppercase(),
            content_type
                .c_subtype
                .as_deref()
                .unwrap_or_default()
                .to_ascii_uppercase(),
        ),
        None => (default_type.0.to_owned(), default_type.1.to_owned()),
    };
    let mut parameters: Vec<(String, String)> = content_type
        .and_then(|content_type| content_type.attributes.as_ref())
        .map(|attributes| {
            attributes
                .iter()
                .map(|attribute| (attribute.name.to_ascii_uppercase(), attribute.value.to_string()))
                .collect()
        })
        .unwrap_or_default();
    if content_type.is_none() && r#type == "TEXT" {
        parameters.push(("CHARSET".into(), "us-ascii".into()));
    }
    let disposition = part.content_disposition().map(|disposition| {
        (
            disposition.c_type.to_ascii_uppercase(),
            disposition
                .attributes
                .as_ref()
                .map(|attributes| {
                    attributes
                        .iter()
                        .map(|attribute| (attribute.name.to_ascii_uppercase(), attribute.value.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    });
    let language = match part.content_language() {
        mail_parser::HeaderValue::Text(text) => vec![text.to_string()],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    };
    let md5 = part
        .headers
        .iter()
        .find(|header| header.name.as_str().eq_ignore_ascii_case("Content-MD5"))
        .and_then(|header| header.value.as_text())
        .map(str::to_owned);
    Fields {
        r#type,
        subtype,
        parameters,
        id: part.content_id().map(|id| format!("<{id}>")),
        description: part.content_description().map(str::to_owned),
        encoding: part
            .content_transfer_encoding()
            .map_or_else(|| "7BIT".to_owned(), str::to_ascii_uppercase),
        md5,
        disposition,
        language,
        location: part.content_location().map(str::to_owned),
    }
}

/// The addresses of a header, as ENVELOPE lists them; groups are RFC 9051 §7.5.2's start and
/// end markers around their members.
fn addresses(address: Option<&mail_parser::Address<'_>>) -> Vec<Address<'static>> {
    fn one(addr: &mail_parser::Addr<'_>) -> Address<'static> {
        let address = addr.address.as_deref().unwrap_or_default();
        let (mailbox, host) = address.rsplit_once('@').unwrap_or((address, ""));
        Address {
            name: nstring(addr.name.as_deref()),
            adl: NString(None),
            mailbox: nstring(Some(mailbox)),
            host: nstring((!host.is_empty()).then_some(host)),
        }
    }
    match address {
        None => Vec::new(),
        Some(mail_parser::Address::List(list)) => list.iter().map(one).collect(),
        Some(mail_parser::Address::Group(groups)) => {
            let mut out = Vec::new();
            for group in groups {
                if let Some(name) = &group.name {
                    out.push(Address {
                        name: NString(None),
                        adl: NString(None),
                        mailbox: nstring(Some(name)),
                        host: NString(None),
                    });
                }
                out.extend(group.addresses.iter().map(one));
                if group.name.is_some() {
                    out.push(Address {
                        name: NString(None),
                        adl: NString(None),
                        mailbox: NString(None),
                        host: NString(None),
                    });
                }
            }
            out
        }
    }
}

fn envelope_of(message: &mail_parser::Message<'_>) -> Envelope<'static> {
    let raw = |name: &str| message.header_raw(name).map(unfold);
    let from = addresses(message.from());
    let or_from = |list: Vec<Address<'static>>| if list.is_empty() { from.clone() } else { list };
    Envelope {
        date: nstring(raw("Date").as_deref()),
        subject: nstring(raw("Subject").as_deref()),
        sender: or_from(addresses(message.sender())),
        reply_to: or_from(addresses(message.reply_to())),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        bcc: addresses(message.bcc()),
        in_reply_to: nstring(raw("In-Reply-To").as_deref()),
        message_id: nstring(raw("Message-ID").as_deref()),
        from,
    }
}

fn empty_envelope() -> Envelope<'static> {
    Envelope {
        date: NString(None),
        subject: NString(None),
        from: Vec::new(),
        sender: Vec::new(),
        reply_to: Vec::new(),
        to: Vec::new(),
        cc: Vec::new(),
        bcc: Vec::new(),
        in_reply_to: NString(None),
        message_id: NString(None),
    }
}

/// Parses `raw[range]` as a message whose offsets are shifted by `range.start`.
fn parse_message(raw: &[u8], range: Range<usize>, depth: usize) -> (Node, Envelope<'static>) {
    let slice = &raw[range.clone()];
    let Some(message) = MessageParser::default().parse(slice) else {
        let node = Node {
            header: range.start..range.start,
            body: range.clone(),
            fields: plain_text(),
            kind: Kind::Text,
        };
        return (node, empty_envelope());
    };
    let node = part_node(raw, &message, 0, range.start, depth, ("TEXT", "PLAIN"));
    (node, envelope_of(&message))
}

fn plain_text() -> Fields {
    Fields {
        r#type: "TEXT".into(),
        subtype: "PLAIN".into(),
        parameters: vec![("CHARSET".into(), "us-ascii".into())],
        id: None,
        description: None,
        encoding: "7BIT".into(),
        md5: None,
        disposition: None,
        language: Vec::new(),
        location: None,
    }
}

fn part_node(
    raw: &[u8],
    message: &mail_parser::Message<'_>,
    id: usize,
    base: usize,
    depth: usize,
    default_type: (&str, &str),
) -> Node {
    let Some(part) = message.parts.get(id) else {
        return Node {
            header: base..base,
            body: base..base,
            fields: plain_text(),
            kind: Kind::Text,
        };
    };
    let header = clamp(
        base + part.offset_header as usize..base + part.offset_body as usize,
        raw.len(),
    );
    let body = clamp(
        base + part.offset_body as usize..base + part.offset_end as usize,
        raw.len(),
    );
    let fields = fields_of(part, default_type);
    let kind = match &part.body {
        PartType::Multipart(children) if !children.is_empty() => {
            // RFC 2046 §5.1.5: a digest's parts are messages unless they say otherwise.
            let child_default = if fields.subtype == "DIGEST" {
                ("MESSAGE", "RFC822")
            } else {
                ("TEXT", "PLAIN")
            };
            Kind::Multipart(
                children
                    .iter()
                    .map(|child| part_node(raw, message, *child as usize, base, depth, child_default))
                    .collect(),
            )
        }
        _ if fields.r#type == "MESSAGE"
            && fields.subtype == "RFC822"
            && depth < MAX_DEPTH
            && matches!(fields.encoding.as_str(), "7BIT" | "8BIT" | "BINARY") =>
        {
            let (inner, envelope) = parse_message(raw, body.clone(), depth + 1);
            Kind::Message(Box::new(inner), Box::new(envelope))
        }
        _ if fields.r#type == "TEXT" => Kind::Text,
        _ => Kind::Basic,
    };
    Node {
        header,
        body,
        fields,
        kind,
    }
}

fn lines(bytes: &[u8]) -> u32 {
    let count = bytes.iter().filter(|&&byte| byte == b'\n').count();
    let unterminated = usize::from(bytes.last().is_some_and(|&byte| byte != b'\n'));
    u32::try_from(count + unterminated).unwrap_or(u32::MAX)
}

fn parameter_list(parameters: &[(String, String)]) -> Vec<(IString<'static>, IString<'static>)> {
    parameters
        .iter()
        .map(|(name, value)| (istring(name), istring(value)))
        .collect()
}

impl Node {
    fn disposition(&self) -> Disposition<'static> {
        Disposition {
            disposition: self
                .fields
                .disposition
                .as_ref()
                .map(|(kind, parameters)| (istring(kind), parameter_list(parameters))),
            tail: Some(Language {
                language: self
                    .fields
                    .language
                    .iter()
                    .map(|language| istring(language))
                    .collect(),
                tail: Some(Location {
                    location: nstring(self.fields.location.as_deref()),
                    extensions: Vec::new(),
                }),
            }),
        }
    }

    fn structure(&self, raw: &[u8], extended: bool) -> BodyStructure<'static> {
        if let Kind::Multipart(children) = &self.kind
            && let Ok(bodies) = NonEmptyVec::try_from(
                children
                    .iter()
                    .map(|child| child.structure(raw, extended))
                    .collect::<Vec<_>>(),
            )
        {
            return BodyStructure::Multi {
                bodies,
                subtype: istring(&self.fields.subtype),
                extension_data: extended.then(|| MultiPartExtensionData {
                    parameter_list: parameter_list(&self.fields.parameters),
                    tail: Some(self.disposition()),
                }),
            };
        }
        let body_bytes = &raw[self.body.clone()];
        let specific = match &self.kind {
            Kind::Text => SpecificFields::Text {
                subtype: istring(&self.fields.subtype),
                number_of_lines: lines(body_bytes),
            },
            Kind::Message(inner, envelope) => SpecificFields::Message {
                envelope: envelope.clone(),
                body_structure: Box::new(inner.structure(raw, extended)),
                number_of_lines: lines(body_bytes),
            },
            Kind::Basic | Kind::Multipart(_) => SpecificFields::Basic {
                r#type: istring(&self.fields.r#type),
                subtype: istring(&self.fields.subtype),
            },
        };
        BodyStructure::Single {
            body: Body {
                basic: BasicFields {
                    parameter_list: parameter_list(&self.fields.parameters),
                    id: nstring(self.fields.id.as_deref()),
                    description: nstring(self.fields.description.as_deref()),
                    content_transfer_encoding: istring(&self.fields.encoding),
                    size: u32::try_from(body_bytes.len()).unwrap_or(u32::MAX),
                },
                specific,
            },
            extension_data: extended.then(|| SinglePartExtensionData {
                md5: nstring(self.fields.md5.as_deref()),
                tail: Some(self.disposition()),
            }),
        }
    }

    /// The part numbered `number` inside this part, treating it as a message when `as_message`
    /// (RFC 9051 §6.4.5: a non-multipart message has a part 1, its body).
    fn child(&self, number: u32) -> Option<&Node> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        match &self.kind {
            Kind::Multipart(children) => children.get(index),
            Kind::Message(inner, _) => match &inner.kind {
                Kind::Multipart(children) => children.get(index),
                _ => (index == 0).then_some(inner.as_ref()),
            },
            _ => None,
        }
    }
}

/// Which header fields a section keeps.
enum FieldFilter<'f> {
    Only(&'f [Vec<u8>]),
    AllBut(&'f [Vec<u8>]),
}

/// The header lines of `header` (its final blank line included) that `filter` keeps; a filtered
/// header always ends with the blank line (RFC 9051 §6.4.5).
fn filter_header(header: &[u8], filter: &FieldFilter<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in header.split_inclusive(|&byte| byte == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            let name = line.split(|&byte| byte == b':').next().unwrap_or_default();
            let name = name.trim_ascii();
            let listed = |names: &[Vec<u8>]| names.iter().any(|wanted| wanted.eq_ignore_ascii_case(name));
            keep = match filter {
                FieldFilter::Only(names) => listed(names),
                FieldFilter::AllBut(names) => !listed(names),
            };
        }
        if keep {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

impl<'a> Parsed<'a> {
    /// Parses `raw`.
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        let (root, envelope) = parse_message(raw, 0..raw.len(), 0);
        Self { raw, root, envelope }
    }

    /// ENVELOPE.
    pub(crate) fn envelope(&self) -> Envelope<'static> {
        self.envelope.clone()
    }

    /// BODYSTRUCTURE (`extended`) or BODY.
    pub(crate) fn structure(&self, extended: bool) -> BodyStructure<'static> {
        self.root.structure(self.raw, extended)
    }

    /// The top-level header, blank line included.
    pub(crate) fn header(&self) -> &'a [u8] {
        &self.raw[self.root.header.clone()]
    }

    /// The top-level body.
    pub(crate) fn text(&self) -> &'a [u8] {
        &self.raw[self.root.body.clone()]
    }

    fn find(&self, path: &[std::num::NonZeroU32]) -> Option<&Node> {
        let (first, rest) = path.split_first()?;
        // The message itself is the context of the first number.
        let mut node = match &self.root.kind {
            Kind::Multipart(children) => children.get(usize::try_from(first.get()).ok()?.checked_sub(1)?)?,
            _ => (first.get() == 1).then_some(&self.root)?,
        };
        for number in rest {
            node = node.child(number.get())?;
        }
        Some(node)
    }

    /// The octets of `section` (None: the whole message); an empty section for a part that
    /// does not exist, as RFC 9051 §6.4.5 asks.
    pub(crate) fn section(&self, section: Option<&Section<'_>>) -> Cow<'a, [u8]> {
        let names = |fields: &NonEmptyVec<imap_codec::imap_types::core::AString<'_>>| -> Vec<Vec<u8>> {
            fields
                .as_ref()
                .iter()
                .map(|name| name.as_ref().to_vec())
                .collect()
        };
        let raw = self.raw;
        // The header and body of the message a HEADER/TEXT section refers to.
        let message =
            |part: Option<&imap_codec::imap_types::fetch::Part>| -> Option<(Range<usize>, Range<usize>)> {
                match part {
                    None => Some((self.root.header.clone(), self.root.body.clone())),
                    Some(part) => match &self.find(part.0.as_ref())?.kind {
                        Kind::Message(inner, _) => Some((inner.header.clone(), inner.body.clone())),
                        _ => None,
                    },
                }
            };
        let bytes: Option<Cow<'a, [u8]>> = match section {
            None => Some(Cow::Borrowed(raw)),
            Some(Section::Part(part)) => self
                .find(part.0.as_ref())
                .map(|node| Cow::Borrowed(&raw[node.body.clone()])),
            Some(Section::Mime(part)) => self
                .find(part.0.as_ref())
                .map(|node| Cow::Borrowed(&raw[node.header.clone()])),
            Some(Section::Header(part)) => {
                message(part.as_ref()).map(|(header, _)| Cow::Borrowed(&raw[header]))
            }
            Some(Section::Text(part)) => message(part.as_ref()).map(|(_, body)| Cow::Borrowed(&raw[body])),
            Some(Section::HeaderFields(part, fields)) => message(part.as_ref()).map(|(header, _)| {
                Cow::Owned(filter_header(&raw[header], &FieldFilter::Only(&names(fields))))
            }),
            Some(Section::HeaderFieldsNot(part, fields)) => message(part.as_ref()).map(|(header, _)| {
                Cow::Owned(filter_header(&raw[header], &FieldFilter::AllBut(&names(fields))))
            }),
        };
        bytes.unwrap_or(Cow::Borrowed(&[]))
    }

    /// The unfolded values of the header field `name`, for SEARCH.
    pub(crate) fn header_values(&self, name: &str) -> Vec<String> {
        let header = String::from_utf8_lossy(self.header());
        let mut values = Vec::new();
        let mut current: Option<String> = None;
        for line in header.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(value) = current.as_mut() {
                    value.push_str(line);
                }
                continue;
            }
            values.extend(current.take());
            if let Some((field, value)) = line.split_once(':')
                && field.trim().eq_ignore_ascii_case(name)
            {
                current = Some(value.trim().to_owned());
            }
        }
        values.extend(current);
        values
    }

    /// The `Date:` header as a Unix time, for SENTBEFORE, SENTON and SENTSINCE.
    pub(crate) fn sent(&self) -> Option<i64> {
        MessageParser::default()
            .parse_headers(self.header())
            .and_then(|message| message.date().map(mail_parser::DateTime::to_timestamp))
    }
}

#[cfg(test)]
#[path = "imap_fetch_tests.rs"]
mod tests;
