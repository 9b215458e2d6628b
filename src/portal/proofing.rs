//! Proofing one's own personal record (個人資料校對) and the personnel office's processing of
//! corrections (人事人員處理).
//!
//! The record has nine categories. The person ticks a field, enters the new value (修改前 and
//! 修改後 are kept side by side) and, when done, presses 校對完成: the staged corrections become
//! one submission and the agency's personnel office gets a to-do item at once (the old portal
//! refreshed it overnight). An officer of that agency approves a correction, which applies it
//! (a new e-mail address is where the next award notice goes), or rejects it with a reason.
//! Approving applies the change, records the decision and closes the to-do in one
//! transaction: never half of it.

use serde::{Deserialize, Serialize};

use super::apps::{PROOFING_SITE, caller_for, read_for};
use super::auth::{Caller, SessionToken};
use super::env::millis;
use super::local::LocalPortal;
use super::paging::{Page, PageRequest};
use crate::db::audit::Touched;
use crate::db::employees;
use crate::db::records::{self, EmployeeColumn};
use crate::error::{Error, ErrorCode, Result};
use crate::store::{StoreExt, Tx};
use crate::types::text::text_field;
use crate::types::{AgencyCode, Email, Lang, RocDate, RocDateTime};

/// The nine categories of the personal record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProofingCategory {
    /// 基本資料.
    Basic,
    /// 現職資料.
    CurrentPost,
    /// 學歷資料.
    Education,
    /// 考試資料.
    Examination,
    /// 訓練進修資料.
    Training,
    /// 經歷資料.
    Career,
    /// 考績資料.
    Performance,
    /// 獎懲資料.
    RewardsPunishments,
    /// 其它表.
    Others,
}

impl ProofingCategory {
    /// All nine, in the order of the proofing site's tabs.
    pub const ALL: [ProofingCategory; 9] = [
        ProofingCategory::Basic,
        ProofingCategory::CurrentPost,
        ProofingCategory::Education,
        ProofingCategory::Examination,
        ProofingCategory::Training,
        ProofingCategory::Career,
        ProofingCategory::Performance,
        ProofingCategory::RewardsPunishments,
        ProofingCategory::Others,
    ];

    /// The stable name stored and sent over the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofingCategory::Basic => "basic",
            ProofingCategory::CurrentPost => "current_post",
            ProofingCategory::Education => "education",
            ProofingCategory::Examination => "examination",
            ProofingCategory::Training => "training",
            ProofingCategory::Career => "career",
            ProofingCategory::Performance => "performance",
            ProofingCategory::RewardsPunishments => "rewards_punishments",
            ProofingCategory::Others => "others",
        }
    }

    /// The tab's name.
    pub fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            ProofingCategory::Basic => ("基本資料", "basic data"),
            ProofingCategory::CurrentPost => ("現職資料", "current post"),
            ProofingCategory::Education => ("學歷資料", "education"),
            ProofingCategory::Examination => ("考試資料", "examinations"),
            ProofingCategory::Training => ("訓練進修資料", "training"),
            ProofingCategory::Career => ("經歷資料", "career history"),
            ProofingCategory::Performance => ("考績資料", "performance ratings"),
            ProofingCategory::RewardsPunishments => ("獎懲資料", "rewards and punishments"),
            ProofingCategory::Others => ("其它表", "others"),
        };
        lang.pick(zh, en)
    }

    /// The category with this stable name.
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            Error::with(
                ErrorCode::ProofingFieldUnknown,
                format!("無此類別 {s}"),
                format!("no category {s:?}"),
            )
        })
    }

    /// The fields of this category.
    pub fn fields(self) -> impl Iterator<Item = &'static FieldSpec> {
        FIELDS.iter().filter(move |f| f.category == self)
    }
}

/// How a field's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFormat {
    /// Free text up to 100 characters.
    Text,
    /// An e-mail address.
    Email,
    /// A ROC date, stored in the slash form.
    RocDate,
}

/// One field of the personal record.
#[derive(Debug)]
pub struct FieldSpec {
    /// Its category.
    pub category: ProofingCategory,
    /// Its stable key.
    pub key: &'static str,
    /// Its label on the site.
    pub label_zh: &'static str,
    /// Its label in English.
    pub label_en: &'static str,
    /// Whether the person may propose a correction online.
    pub correctable: bool,
    /// How values are checked.
    pub format: FieldFormat,
}

macro_rules! fields {
    ($( $cat:ident $key:literal $zh:literal $en:literal $corr:literal $fmt:ident; )*) => {
        /// Every field of the record: the one list the site, the checks and the storage share.
        pub static FIELDS: &[FieldSpec] = &[ $( FieldSpec {
            category: ProofingCategory::$cat, key: $key, label_zh: $zh, label_en: $en,
            correctable: $corr, format: FieldFormat::$fmt,
        }, )* ];
    };
}

fields! {
    Basic "name" "姓名" "name" false Text;
    Basic "birth_date" "出生日期" "date of birth" false RocDate;
    Basic "sex" "性別" "sex" false Text;
    Basic "registered_address" "戶籍地址" "household registration address" true Text;
    Basic "mailing_address" "通訊地址" "mailing address" true Text;
    Basic "home_phone" "住宅電話" "home phone" true Text;
    Basic "mobile" "行動電話" "mobile phone" true Text;
    CurrentPost "occupying_agency" "佔缺機關" "agency of the post held" true Text;
    CurrentPost "occupying_unit" "佔缺單位" "unit of the post held" true Text;
    CurrentPost "serving_agency" "實際服務機關" "agency actually served" true Text;
    CurrentPost "serving_unit" "實際服務單位" "unit actually served" true Text;
    CurrentPost "title" "職稱" "title" true Text;
    CurrentPost "concurrent_title" "兼職職稱" "concurrent title" true Text;
    CurrentPost "supervisor_level" "主管級別" "supervisor level" true Text;
    CurrentPost "job_series" "職系" "job series" true Text;
    CurrentPost "grade_range_1_from" "職務列等第一組起" "grade range 1 from" true Text;
    CurrentPost "grade_range_1_to" "職務列等第一組迄" "grade range 1 to" true Text;
    CurrentPost "grade_range_2_from" "職務列等第二組起" "grade range 2 from" true Text;
    CurrentPost "grade_range_2_to" "職務列等第二組迄" "grade range 2 to" true Text;
    CurrentPost "current_grade" "現支職等" "current grade" true Text;
    CurrentPost "pay_grade" "現支俸級" "pay grade" true Text;
    CurrentPost "pay_points" "現支俸點" "pay points" true Text;
    CurrentPost "provisional_pay_points" "暫支俸點" "provisional pay points" true Text;
    CurrentPost "appointment_reason" "任職原因" "reason of appointment" true Text;
    CurrentPost "appointment_effective" "任職生效日期" "appointment effective date" true RocDate;
    CurrentPost "appointment_issued" "派令發文日期" "appointment order date" true RocDate;
    CurrentPost "reported_on" "實際到職日期" "date reported for duty" true RocDate;
    CurrentPost "appointment_document" "任職字號" "appointment document number" true Text;
    CurrentPost "staff_category" "人員區分" "staff category" true Text;
    CurrentPost "office_phone" "辦公室電話" "office phone" true Text;
    CurrentPost "leaving_reason" "卸職原因" "reason for leaving" true Text;
    CurrentPost "dismissal_issued" "免職派令發文日期" "dismissal order date" true RocDate;
    CurrentPost "dismissal_effective" "免職生效日期" "dismissal effective date" true RocDate;
    CurrentPost "left_on" "實際離職日期" "date left" true RocDate;
    CurrentPost "dismissal_document" "免職字號" "dismissal document number" true Text;
    CurrentPost "retirement_month" "屆退年月" "retirement month" true Text;
    CurrentPost "email" "電子郵件信箱" "e-mail address" true Email;
    Education "school" "學校名稱" "school" true Text;
    Education "department" "院系科組" "department" true Text;
    Education "degree" "學位" "degree" true Text;
    Education "graduated_on" "畢業日期" "graduation date" true RocDate;
    Examination "exam" "考試名稱" "examination" true Text;
    Examination "exam_year" "考試年度" "year" true Text;
    Examination "exam_class" "等別類科" "level and class" true Text;
    Training "course" "課程名稱" "course" true Text;
    Training "hours" "時數" "hours" true Text;
    Training "completed_on" "完成日期" "completion date" true RocDate;
    Career "agency" "服務機關" "agency" true Text;
    Career "title" "職稱" "title" true Text;
    Career "from" "起日" "from" true RocDate;
    Career "to" "迄日" "to" true RocDate;
    Performance "year" "考績年度" "rating year" true Text;
    Performance "grade" "考績等次" "grade" true Text;
    RewardsPunishments "note" "獎懲補充說明" "note on rewards and punishments" true Text;
    Others "note" "其他說明" "other notes" true Text;
}

/// The field `key` of `category`.
pub fn field_spec(category: ProofingCategory, key: &str) -> Result<&'static FieldSpec> {
    category.fields().find(|f| f.key == key).ok_or_else(|| {
        Error::with(
            ErrorCode::ProofingFieldUnknown,
            format!("{} 無欄位 {key}", category.label(Lang::ZhTw)),
            format!("{} has no field {key:?}", category.label(Lang::En)),
        )
    })
}

/// Checks and normalises a value for a field.
fn normalise(spec: &FieldSpec, value: &str) -> Result<String> {
    match spec.format {
        FieldFormat::Text => text_field("欄位內容 value", value, 100),
        FieldFormat::Email => Ok(Email::parse(value)?.as_str().to_owned()),
        FieldFormat::RocDate => Ok(RocDate::parse(value)?.to_slash()),
    }
}

/// Fields kept in the directory's own columns, so the engine reads them from one place.
fn column_of(spec: &FieldSpec) -> Option<EmployeeColumn> {
    match (spec.category, spec.key) {
        (ProofingCategory::CurrentPost, "email") => Some(EmployeeColumn::Email),
        (ProofingCategory::CurrentPost, "title") => Some(EmployeeColumn::Title),
        (ProofingCategory::Basic, "name") => Some(EmployeeColumn::Name),
        _ => None,
    }
}

/// Where the directory keeps a field's default (see [`directory_default`]).
type DirectoryRead = fn(&mut dyn Tx, i64) -> Result<Option<String>>;

/// Fields the record holds a value of its own for only once one is approved: until then they
/// are the directory's (the agency and unit the person serves in), read where the directory
/// keeps them, so a person moved by a directory import is shown at their new post and the
/// import writes nothing into the record.
fn directory_default(spec: &FieldSpec) -> Option<DirectoryRead> {
    match (spec.category, spec.key) {
        (ProofingCategory::CurrentPost, "occupying_agency" | "serving_agency") => Some(records::agency_name),
        (ProofingCategory::CurrentPost, "occupying_unit" | "serving_unit") => Some(records::unit_name),
        _ => None,
    }
}

fn read_field(tx: &mut dyn Tx, employee_id: i64, spec: &FieldSpec) -> Result<Option<String>> {
    if let Some(column) = column_of(spec) {
        return records::employee_column(tx, employee_id, column);
    }
    let value = records::field_value(tx, employee_id, spec.category.as_str(), spec.key)?;
    match (value, directory_default(spec)) {
        (Some(v), _) => Ok(Some(v)),
        (None, Some(read)) => read(tx, employee_id),
        (None, None) => Ok(None),
    }
}

/// Sets a field of the record (checked): used by approvals and by the system of record.
pub(crate) fn write_field(
    tx: &mut dyn Tx,
    employee_id: i64,
    category: ProofingCategory,
    key: &str,
    value: &str,
) -> Result<()> {
    let spec = field_spec(category, key)?;
    let value = normalise(spec, value)?;
    if let Some(column) = column_of(spec) {
        records::set_employee_column(tx, employee_id, column, &value)?;
    } else {
        records::set_field(tx, employee_id, category.as_str(), key, &value)?;
    }
    Ok(())
}

/// One field as the person sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct FieldValue {
    /// Stable key.
    pub key: String,
    /// Label (Chinese).
    pub label_zh: String,
    /// Label (English).
    pub label_en: String,
    /// The recorded value (修改前).
    pub value: Option<String>,
    /// A staged correction (修改後), if any.
    pub staged: Option<String>,
    /// Whether it may be corrected online.
    pub correctable: bool,
}

/// One category of the record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct RecordCategory {
    /// Which.
    pub category: ProofingCategory,
    /// Its fields.
    pub fields: Vec<FieldValue>,
}

/// The whole personal record, as its person proofs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct PersonalRecord {
    /// Name.
    pub name: String,
    /// Masked national ID.
    pub national_id: String,
    /// The nine categories.
    pub categories: Vec<RecordCategory>,
    /// When the person last pressed 校對完成.
    pub last_proofed: Option<RocDateTime>,
}

/// A staged correction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct StagedCorrection {
    /// Category.
    pub category: ProofingCategory,
    /// Field key.
    pub field: String,
    /// 修改前.
    pub before: Option<String>,
    /// 修改後.
    pub after: String,
}

/// What 校對完成 produced.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ProofingSubmission {
    /// Its number.
    pub id: i64,
    /// When.
    pub completed_at: RocDateTime,
    /// Corrections submitted (0 means the record was confirmed as it is).
    pub corrections: u32,
}

/// A correction's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CorrectionStatus {
    /// Waiting for the personnel office.
    Pending,
    /// Approved and applied.
    Approved,
    /// Rejected, with a reason.
    Rejected,
}

impl CorrectionStatus {
    fn as_str(self) -> &'static str {
        match self {
            CorrectionStatus::Pending => "pending",
            CorrectionStatus::Approved => "approved",
            CorrectionStatus::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(CorrectionStatus::Pending),
            "approved" => Ok(CorrectionStatus::Approved),
            "rejected" => Ok(CorrectionStatus::Rejected),
            other => Err(crate::store::corrupt(format!("unknown correction status {other}"))),
        }
    }
}

/// A submitted correction, as the officer processes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ProofingCorrection {
    /// Its number.
    pub id: i64,
    /// The submission it belongs to.
    pub submission_id: i64,
    /// Whose record (masked ID).
    pub national_id: String,
    /// Their name.
    pub name: String,
    /// Category.
    pub category: ProofingCategory,
    /// Field key.
    pub field: String,
    /// Field label.
    pub label_zh: String,
    /// 修改前.
    pub before: Option<String>,
    /// 修改後.
    pub after: String,
    /// State.
    pub status: CorrectionStatus,
    /// The reason of a rejection.
    pub reject_reason: Option<String>,
    /// When it was processed.
    pub processed_at: Option<RocDateTime>,
}

/// An officer's decision on a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorrectionDecision {
    /// Apply the change.
    Approve,
    /// Refuse it, saying why.
    Reject {
        /// Why (required).
        reason: String,
    },
}

/// The officer's query screen (人事人員校對查詢).
#[derive(Debug, Clone, Default)]
pub struct ProofingQuery {
    /// 機關代號: the officer's own agency or one below it; without it, all of them. Any other
    /// agency is refused.
    pub agency: Option<AgencyCode>,
    /// Units whose name contains this text.
    pub unit: Option<String>,
    /// Proofed on or after this day (校對日期起).
    pub from: Option<RocDate>,
    /// Proofed on or before this day (校對日期迄).
    pub to: Option<RocDate>,
    /// Only people who have (true) or have not (false) proofed in the range (校對狀態).
    pub proofed: Option<bool>,
    /// Only submissions fully processed (true) or with corrections waiting (false) (處理狀態).
    pub processed: Option<bool>,
    /// Which page of the people found.
    pub page: PageRequest,
}

/// One employee on the officer's query screen.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct ProofingQueryRow {
    /// Masked national ID.
    pub national_id: String,
    /// Name.
    pub name: String,
    /// Their agency (機關代號): the officer's or one below it.
    pub agency_code: String,
    /// Unit.
    pub unit: Option<String>,
    /// Their latest submission in the range, if any.
    pub submission_id: Option<i64>,
    /// When they pressed 校對完成 (ROC date for the screen, ISO in JSON).
    pub proofed_on: Option<RocDate>,
    /// Corrections in that submission.
    pub corrections: u32,
    /// Corrections still waiting in any of their submissions in the range (not only the
    /// latest): what the "processed" filter looks at.
    pub pending: u32,
}

/// An open item on the officer's to-do list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct TodoItem {
    /// Its number.
    pub id: i64,
    /// The submission to process.
    pub submission_id: i64,
    /// Whose (masked ID).
    pub national_id: String,
    /// Their name.
    pub name: String,
    /// Corrections still waiting.
    pub pending: u32,
    /// When it appeared.
    pub created_at: RocDateTime,
}

pub(crate) fn record(p: &LocalPortal, token: &SessionToken) -> Result<PersonalRecord> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    p.store.read(|tx| {
        let who = employees::by_id(tx, c.employee_id)?.ok_or_else(|| Error::new(ErrorCode::AccountNotFound))?;
        let mut categories = Vec::with_capacity(9);
        for category in ProofingCategory::ALL {
            let mut fields = Vec::new();
            for spec in category.fields() {
                let staged = records::staged_value(tx, c.employee_id, category.as_str(), spec.key)?;
                fields.push(FieldValue {
                    key: spec.key.into(),
                    label_zh: spec.label_zh.into(),
                    label_en: spec.label_en.into(),
                    value: read_field(tx, c.employee_id, spec)?,
                    staged,
                    correctable: spec.correctable,
                });
            }
            categories.push(RecordCategory { category, fields });
        }
        let last = records::last_completed(tx, c.employee_id)?;
        Ok(PersonalRecord {
            name: who.name,
            national_id: who.national_id.masked(),
            categories,
            last_proofed: last.map(Into::into),
        })
    })
}

pub(crate) fn stage(
    p: &LocalPortal,
    token: &SessionToken,
    category: ProofingCategory,
    key: &str,
    value: &str,
) -> Result<StagedCorrection> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    let spec = field_spec(category, key)?;
    if !spec.correctable {
        return Err(Error::with(
            ErrorCode::ProofingFieldReadOnly,
            spec.label_zh,
            spec.label_en,
        ));
    }
    let after = normalise(spec, value)?;
    let now = millis(p.now());
    p.store.write(|tx| {
        let before = read_field(tx, c.employee_id, spec)?;
        if before.as_deref() == Some(after.as_str()) {
            return Err(Error::new(ErrorCode::ProofingValueUnchanged));
        }
        records::stage_draft(
            tx,
            &records::NewDraft {
                employee_id: c.employee_id,
                category: category.as_str(),
                field: key,
                before: before.as_deref(),
                after: &after,
                staged_at_ms: now,
            },
        )?;
        Ok(StagedCorrection {
            category,
            field: key.to_owned(),
            before: before.clone(),
            after: after.clone(),
        })
    })
}

pub(crate) fn discard(p: &LocalPortal, token: &SessionToken, category: ProofingCategory, key: &str) -> Result<()> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    field_spec(category, key)?;
    p.store.write(|tx| {
        records::discard_draft(tx, c.employee_id, category.as_str(), key)?;
        Ok(())
    })
}

pub(crate) fn complete(p: &LocalPortal, token: &SessionToken) -> Result<ProofingSubmission> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    let now_t = p.now();
    let now = millis(now_t);
    let today = RocDate::today_in_taiwan(now_t).to_iso();
    p.store.write(|tx| {
        let drafts = records::drafts(tx, c.employee_id)?;
        let n = drafts.len() as i64;
        // Pressing 校對完成 with nothing staged says "my record is right", which is what makes
        // the proofing count as done: recorded once a day. Pressing it again that day (a
        // double click, a script) creates nothing: the same submission comes back.
        if n == 0
            && let Some(s) = records::confirmation_on(tx, c.employee_id, &c.agency_code, &today)?
        {
            return Ok(ProofingSubmission {
                id: s.id,
                completed_at: s.completed_at.into(),
                corrections: 0,
            });
        }
        let id = records::insert_submission(
            tx,
            &records::NewSubmission {
                employee_id: c.employee_id,
                agency_code: &c.agency_code,
                completed_at_ms: now,
                completed_on: &today,
                corrections: n,
            },
        )?;
        records::insert_corrections(tx, id, c.employee_id, &c.agency_code, &drafts)?;
        records::clear_drafts(tx, c.employee_id)?;
        if n > 0 {
            records::open_todo(tx, &c.agency_code, id, c.employee_id, now)?;
        }
        let detail = format!("{n} corrections");
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "proofing.complete",
            Some(c.employee_id),
            Some(&format!("submission:{id}")),
            Some(&detail),
        )?;
        Ok(ProofingSubmission {
            id,
            completed_at: now_t.into(),
            corrections: n as u32,
        })
    })
}

pub(crate) fn query(p: &LocalPortal, token: &SessionToken, q: &ProofingQuery) -> Result<Page<ProofingQueryRow>> {
    q.page.check()?;
    let c = caller_for(p, token, PROOFING_SITE)?;
    c.officer_agency()?;
    let from = q.from.map(|d| d.to_iso()).unwrap_or_else(|| "0000-00-00".into());
    let to = q.to.map(|d| d.to_iso()).unwrap_or_else(|| "9999-99-99".into());
    let unit = q
        .unit
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        // The person typed a unit name, not a pattern: % and _ match themselves.
        .map(|u| format!("%{}%", u.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let now = millis(p.now());
    p.store.write(|tx| {
        // 機關代號: the officer's agency or one below it; none given, all of them.
        let scope = officer_scope(tx, &c)?;
        let agencies = match &q.agency {
            Some(a) if !scope.iter().any(|s| s == a.as_str()) => return Err(Error::new(ErrorCode::AccessDenied)),
            Some(a) => vec![a.as_str().to_owned()],
            None => scope,
        };
        // Each current employee of those agencies with their latest submission inside the range.
        let rows = records::proofing_states(tx, &agencies, &from, &to, unit.as_deref())?;
        let mut shown = Vec::new();
        for r in rows {
            let proofed = r.submission_id.is_some();
            let pending = r.pending.unwrap_or(0);
            if q.proofed.is_some_and(|want| want != proofed) {
                continue;
            }
            if let Some(want) = q.processed
                && (!proofed || (pending == 0) != want)
            {
                continue;
            }
            shown.push(r);
        }
        let page = Page::cut(q.page, shown);
        // A read of each person on the page.
        let touched: Vec<_> = page
            .items
            .iter()
            .map(|r| Touched {
                subject: r.employee_id,
                agency_code: &r.agency_code,
                object: r.submission_id.map(|id| format!("submission:{id}")),
                detail: Some(format!("page {}", q.page.page)),
            })
            .collect();
        crate::db::audit::record_many(tx, now, c.employee_id, "proofing.query", &touched)?;
        Ok(page.map(|r| ProofingQueryRow {
            national_id: r.national_id.masked(),
            name: r.name,
            agency_code: r.agency_code,
            unit: r.unit,
            submission_id: r.submission_id,
            proofed_on: r.proofed_on,
            corrections: r.corrections.unwrap_or(0) as u32,
            pending: r.pending.unwrap_or(0) as u32,
        }))
    })
}

/// The agencies whose proofing an officer queries and processes: their own and every agency
/// below it (a parent personnel office, e.g. 臺北市政府人事處, for the city's bureaus).
pub(crate) fn officer_scope(tx: &mut dyn Tx, c: &Caller) -> Result<Vec<String>> {
    crate::db::employees::agency_subtree(tx, c.officer_agency()?)
}

pub(crate) fn todos(p: &LocalPortal, token: &SessionToken) -> Result<Vec<TodoItem>> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    c.officer_agency()?;
    p.store.read(|tx| {
        let scope = officer_scope(tx, &c)?;
        let items = records::open_todos(tx, &scope)?;
        Ok(items
            .into_iter()
            .map(|t| TodoItem {
                id: t.id,
                submission_id: t.submission_id,
                national_id: t.national_id.masked(),
                name: t.name,
                pending: t.pending as u32,
                created_at: t.created_at.into(),
            })
            .collect())
    })
}

fn correction_from(r: records::Correction) -> Result<ProofingCorrection> {
    let category = ProofingCategory::parse(&r.category)?;
    Ok(ProofingCorrection {
        id: r.id,
        submission_id: r.submission_id,
        national_id: r.national_id.masked(),
        name: r.name,
        category,
        label_zh: field_spec(category, &r.field)?.label_zh.into(),
        field: r.field,
        before: r.before,
        after: r.after,
        status: CorrectionStatus::parse(&r.status)?,
        reject_reason: r.reject_reason,
        processed_at: r.processed_at.map(Into::into),
    })
}

/// The caller's own corrections, newest first, each with its outcome: pending, approved, or
/// rejected with the officer's reason. A person's reads of their own data are not audited.
pub(crate) fn my_corrections(p: &LocalPortal, token: &SessionToken) -> Result<Vec<ProofingCorrection>> {
    read_for(p, token, PROOFING_SITE, |tx, c| {
        records::corrections_of(tx, c.employee_id)?
            .into_iter()
            .map(correction_from)
            .collect()
    })
}

pub(crate) fn submission_corrections(
    p: &LocalPortal,
    token: &SessionToken,
    submission_id: i64,
) -> Result<Vec<ProofingCorrection>> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    c.officer_agency()?;
    let now = millis(p.now());
    p.store.write(|tx| {
        let rows = records::submission_corrections(tx, submission_id)?;
        // Another office's submission does not exist for this officer.
        let scope = officer_scope(tx, &c)?;
        let Some(first) = rows.first().filter(|r| scope.contains(&r.agency_code)) else {
            return Err(Error::new(ErrorCode::CorrectionNotFound));
        };
        let subject = first.employee_id;
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "proofing.read",
            Some(subject),
            Some(&format!("submission:{submission_id}")),
            None,
        )?;
        rows.into_iter().map(correction_from).collect()
    })
}

pub(crate) fn process(
    p: &LocalPortal,
    token: &SessionToken,
    correction_id: i64,
    decision: &CorrectionDecision,
) -> Result<ProofingCorrection> {
    let c = caller_for(p, token, PROOFING_SITE)?;
    c.officer_agency()?;
    let reason = match decision {
        CorrectionDecision::Approve => None,
        CorrectionDecision::Reject { reason } if reason.trim().is_empty() => {
            return Err(Error::new(ErrorCode::RejectReasonRequired));
        }
        CorrectionDecision::Reject { reason } => Some(text_field("退回理由 reason", reason, 300)?),
    };
    let status = if reason.is_some() {
        CorrectionStatus::Rejected
    } else {
        CorrectionStatus::Approved
    };
    let now = millis(p.now());
    p.store.write(|tx| {
        let row = records::correction(tx, correction_id)?.ok_or_else(|| Error::new(ErrorCode::CorrectionNotFound))?;
        // A correction outside the officer's agencies does not exist for them.
        if !officer_scope(tx, &c)?.contains(&row.agency_code) {
            return Err(Error::new(ErrorCode::CorrectionNotFound));
        }
        let employee = row.employee_id;
        let current = correction_from(row)?;
        let own = super::awards::self_approval(p, &c, employee)?;
        // The status guard makes a second, racing decision change nothing.
        let changed = records::decide_correction(
            tx,
            correction_id,
            status.as_str(),
            c.employee_id,
            now,
            reason.as_deref(),
        )?;
        if !changed {
            return Err(Error::new(ErrorCode::CorrectionAlreadyProcessed));
        }
        if status == CorrectionStatus::Approved {
            write_field(tx, employee, current.category, &current.field, &current.after)?;
        }
        let pending = records::one_processed(tx, current.submission_id)?;
        if pending == 0 {
            records::close_todo(tx, current.submission_id, now)?;
        }
        let object = format!("correction:{correction_id}");
        crate::db::audit::record(
            tx,
            now,
            Some(c.employee_id),
            "proofing.process",
            Some(employee),
            Some(&object),
            Some(&match own {
                false => status.as_str().to_owned(),
                true => format!("{}, {}", status.as_str(), super::awards::SELF_APPROVAL),
            }),
        )?;
        let row = records::correction(tx, correction_id)?.ok_or_else(|| Error::new(ErrorCode::CorrectionNotFound))?;
        correction_from(row)
    })
}
