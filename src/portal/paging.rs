//! Pages of the officers' lists (the agency's staff, unsigned orders, the proofing query).
//!
//! An officer's list is a read of each person on it, and the audit trail records one. A list
//! of a whole agency would be a read of everyone in it, though the officer looks at a screen
//! of them, so the lists come a page at a time: at most [`MAX_PER_PAGE`] people.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode, Result};

/// The most rows a page holds.
pub const MAX_PER_PAGE: u32 = 100;

/// Which page of a list: the first is 1, with at most [`MAX_PER_PAGE`] rows. As a request
/// body (`POST /api/v1/agency/employees/list`, `…/award-orders/unsigned/list`) either field may
/// be left out: the first page, of 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PageRequest {
    /// The page, from 1.
    #[cfg_attr(feature = "http", schemars(range(min = 1)))]
    pub page: u32,
    /// Rows on a page, 1 to 100.
    #[cfg_attr(feature = "http", schemars(range(min = 1, max = 100)))]
    pub per_page: u32,
}

impl Default for PageRequest {
    /// The first page of 100.
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: MAX_PER_PAGE,
        }
    }
}

impl PageRequest {
    /// Page `page` (from 1) of `per_page` rows (1 to 100).
    pub fn new(page: u32, per_page: u32) -> Result<Self> {
        let p = PageRequest { page, per_page };
        p.check()?;
        Ok(p)
    }

    /// Refuses page 0 and pages of no or more than 100 rows.
    pub(crate) fn check(&self) -> Result<()> {
        if self.page == 0 || self.per_page == 0 || self.per_page > MAX_PER_PAGE {
            return Err(Error::with(
                ErrorCode::FieldInvalid,
                format!("頁次自 1 起，每頁 1 至 {MAX_PER_PAGE} 筆"),
                format!("pages count from 1, with 1 to {MAX_PER_PAGE} rows each"),
            ));
        }
        Ok(())
    }

    /// The rows before this page.
    pub(crate) fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

/// One page of a list, and how many rows the list has in all.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct Page<T> {
    /// This page's rows.
    pub items: Vec<T>,
    /// Which page it is, from 1.
    pub page: u32,
    /// Rows a page holds.
    pub per_page: u32,
    /// Rows in the whole list.
    pub total: u64,
}

impl<T> Page<T> {
    /// The page `req` asked for, of `items` out of `total`.
    pub(crate) fn of(req: PageRequest, items: Vec<T>, total: u64) -> Self {
        Page {
            items,
            page: req.page,
            per_page: req.per_page,
            total,
        }
    }

    /// The page `req` asks for, cut from the whole list.
    pub(crate) fn cut(req: PageRequest, all: Vec<T>) -> Self {
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(usize::try_from(req.offset()).unwrap_or(usize::MAX))
            .take(req.per_page as usize)
            .collect();
        Page::of(req, items, total)
    }

    /// The same page with each row mapped.
    pub(crate) fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
        }
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    /// The page's rows.
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Page<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    /// The page's rows.
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}
