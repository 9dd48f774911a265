//! Finding a worker or an agency by what people know of them (a name, a credit code, an ID or
//! certificate number) instead of an internal number, within the asker's area.

use jiazheng_store::PageRequest;

use crate::api::workers::today;
use crate::{AppError, AppState};

/// The worker or agency someone names as people know them: an agency by its credit code or
/// exact name, a worker by certificate number or exact name within the regulator's area. When a
/// name fits several, the error asks for the number that tells them apart.
pub async fn named(state: &AppState, kind: &str, text: &str, area: Option<&str>) -> Result<i64, AppError> {
    use jiazheng_core::field::Invalid;
    let text = jiazheng_core::field::required_text(text, 100).map_err(crate::api::field_error("subject"))?;
    let refuse = |invalid: Invalid| Err(crate::api::field_error("subject")(invalid));
    // Areas are district codes (220102000000); a district's streets and records share its six digits.
    let within = |code: &str| area.is_none_or(|a| code.starts_with(a.get(..6).unwrap_or(a)));
    match jiazheng_core::credit::SubjectKind::parse(kind).map_err(crate::api::field_error("subject_kind"))? {
        jiazheng_core::credit::SubjectKind::Agency => {
            // Outside the regulator's area an agency is as good as not there: the answer is the same.
            if let Ok(agency) = state.store.agency_by_uscc(&text.to_uppercase()).await
                && within(&agency.district_code)
            {
                return Ok(agency.id);
            }
            let query = jiazheng_store::registry::agencies::AgencyQuery {
                text: Some(text.clone()),
                district: area.map(str::to_string),
                page: PageRequest::new(None, Some(20)),
            };
            let found = state.store.search_agencies(&query).await?.items;
            let exact: Vec<i64> = found.iter().filter(|a| a.name == text).map(|a| a.id).collect();
            match exact.as_slice() {
                [one] => Ok(*one),
                [] => refuse(Invalid::new(
                    "no_such_agency",
                    "没有找到这家企业，请输入完整名称或统一社会信用代码",
                    "no such agency: type its full name or its credit code",
                )),
                _ => refuse(Invalid::new(
                    "ambiguous",
                    "有多家企业叫这个名字，请输入统一社会信用代码",
                    "several agencies have this name: type the credit code",
                )),
            }
        }
        jiazheng_core::credit::SubjectKind::Worker => {
            let by_number = match jiazheng_core::ids::ResidentId::parse(&text, today()) {
                Ok(number) => state.store.worker_id_by_id_number(number.as_str()).await?,
                Err(_) => state.store.certificate(&text.to_uppercase()).await.ok().map(|c| c.worker_id),
            };
            if let Some(id) = by_number {
                let worker = state.store.worker(id).await?;
                if within(&worker.home_street) {
                    return Ok(worker.id);
                }
            }
            let query = jiazheng_store::registry::workers::WorkerQuery {
                name: Some(text.clone()),
                district: area.and_then(|a| jiazheng_core::division::DivisionCode::parse(a).ok()),
                page: PageRequest::new(None, Some(100)),
                ..Default::default()
            };
            let found = state.store.search_workers(&query).await?.items;
            let exact: Vec<i64> = found.iter().filter(|w| w.name == text).map(|w| w.id).collect();
            match exact.as_slice() {
                [one] => Ok(*one),
                [] => refuse(Invalid::new(
                    "no_such_worker",
                    "没有找到这位服务员，请输入完整姓名、身份证号或上门服务证编号",
                    "no such worker: type the full name, the ID number or the certificate number",
                )),
                _ => refuse(Invalid::new(
                    "ambiguous",
                    format!("有{}位服务员叫这个名字，请输入其身份证号或上门服务证编号", exact.len()),
                    format!("{} workers have this name: type their ID number or certificate number", exact.len()),
                )),
            }
        }
    }
}
