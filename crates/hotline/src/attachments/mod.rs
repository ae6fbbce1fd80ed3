//! Ticket attachments (附件): photos, scans, documents and call recordings. The type is checked
//! from the file's content, not its name, and must agree with the name's extension.
//!
//! Inside: `domain` (the accepted kinds and the check, pure), `store` (`hotline_attachments`),
//! `service` (add, list, fetch) and `http`.

mod domain;
mod http;
mod service;
mod store;

pub use domain::{check_file, Attachment, MAX_BYTES, MAX_PER_TICKET};
pub use http::{routes, AttachmentApi, UploadQuery};
pub use service::{add, fetch, list};
