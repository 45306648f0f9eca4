//! Bibliographic rules of Lectern that need no server and no database:
//! ISBN parsing and conversion ([`isbn`]) and call-number suggestions
//! ([`callnumber`]). Everything here is plain
//! functions over plain types, so the catalog service, the `lectern`
//! tools and the fuzz targets share one implementation.

pub mod callnumber;
pub mod isbn;
