//! CMS
