//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>) under `/open311/v2`, in JSON
//! and XML, with the spec's error documents (descriptions in zh-CN).
//!
//! Mapping and choices:
//! - services are the taxonomy's active leaf categories; `service_code` is the category id, and
//!   the category's extra questions are the service definition's attributes;
//! - `service_request_id` is the ticket number. Requests are created synchronously, so the token
//!   of the token flow is the ticket number too (no table of our own);
//! - `jurisdiction_id` is optional; when given it must equal the configured city name
//!   (`city.name`, e.g. `A市`), else 404;
//! - `api_key` is a yiwang API token with the `hotline:write` scope, taken from the posted form
//!   or the `X-Api-Key` header and refused in the URL (where logs and histories keep it). Reads
//!   need no key;
//! - reads never show 举报 (whistle-blower reports), as the public board does not;
//! - a posted request becomes a ticket on channel `api`, type 求助 unless `attribute[kind]`
//!   (a ticket type code or label) says otherwise, waiting for an operator (待受理);
//! - `address_id` is a region code (GB/T 2260, 6 or 12 digits);
//! - reads never show the caller's name, phone or e-mail: those are dropped, and masked where
//!   they appear in the description or reply; the address is masked below street level and
//!   lat/long are rounded to three decimals (about 100 m), as for any other public list;
//! - `email`, `device_id` and `account_id` are accepted and not kept (the hotline answers by
//!   phone); `media_url` is kept as the last line of the ticket content, where staff see it.
//!
//! Inside: `domain` (the mapping and checks, pure), `format` (JSON and XML documents, error
//! answers) and `http` (the routes, through `HotlineService`; no SQL of its own).

mod domain;
mod format;
mod http;

pub(crate) use domain::scrub;
pub use http::routes;
