//! Bibliographic rules of Lectern that need no server and no database:
//! ISBN parsing and conversion ([`isbn`]), call-number suggestions
//! ([`callnumber`]) and MARC records ([`marc`]: ISO 2709 and MARCXML
//! readers and writers, MARC21 and CNMARC mapping). Everything here is
//! plain functions over plain types, so the catalog service, the `lectern`
//! tools and the fuzz targets share one implementation.

pub mod callnumber;
pub mod isbn;
pub mod marc;
