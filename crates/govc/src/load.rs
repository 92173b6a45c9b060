//! Paths as the user would type them; reading packages is `gov_driver`'s.

pub use gov_driver::load::display;
