//! Static assets, embedded in the binary: the pages request nothing from outside the server.
//! Paths carry a version so browsers may cache them for long.

pub const CSS_PATH: &str = "/assets/app.v1.css";
pub const JS_PATH: &str = "/assets/app.v1.js";

pub const CSS: &str = include_str!("../assets/app.css");
pub const JS: &str = include_str!("../assets/app.js");
pub const FAVICON: &str = include_str!("../assets/favicon.svg");
