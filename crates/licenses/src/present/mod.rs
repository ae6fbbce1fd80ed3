//! 亮证: a short-lived presentation of chosen fields, signed by the issuing department's key,
//! compact enough for a QR code; its verification (查证 of the QR text).
pub mod domain;
pub mod service;
