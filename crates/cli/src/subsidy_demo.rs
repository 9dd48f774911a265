//! Demo subsidised service: every district's budget for this year, residents of 南关区 registered
//! by its community staff (the demo resident among them, by an hours quota), and two orders the
//! district pays for. All names, numbers and evidence are synthetic.

use chrono::{Datelike, Duration, NaiveDate};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::market::CatalogItem;
use jiazheng_core::market::slot::{Slot, day_start};
use jiazheng_core::market::subsidy::{EvidenceType, GrantForm};
use jiazheng_store::Store;
use jiazheng_store::market::orders::BookingRequest;

const NANGUAN: &str = "220102000000";

/// A one-page PDF that says what it is: demo evidence, not a real certificate.
pub(crate) fn evidence_pdf(note: &str) -> Vec<u8> {
    let text = format!("BT /F1 14 Tf 60 760 Td (Demo evidence - synthetic: {note}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

pub async fn generate(
    store: &Store,
    city_regulator: i64,
    staff: i64,
    resident: i64,
    agency: i64,
) -> anyhow::Result<String> {
    let today = jiazheng_core::calendar::beijing_today();
    let regulator = Principal { account_id: city_regulator, role: Role::Regulator, scope: Scope::City };
    let nanguan = DivisionCode::parse(NANGUAN).map_err(|e| anyhow::anyhow!(e.message_en))?;
    for district in store.districts().await? {
        let code = DivisionCode::parse(&district.code).map_err(|e| anyhow::anyhow!(e.message_en))?;
        let amount = if district.code == NANGUAN { 50_000_000 } else { 30_000_000 };
        store.set_subsidy_budget(&regulator, &code, today.year(), amount).await?;
    }
    let staff = Principal { account_id: staff, role: Role::CommunityStaff, scope: Scope::District(nanguan.clone()) };
    let people = [
        // The demo resident, with the identity her contracts state.
        ("张丽华", "13800000001", 1986, "disability", "hours", "48", "残疾人证 长南残 2024-0318"),
        ("李桂英", "13800000102", 1944, "disabled_elder", "hours", "96", "失能评估报告 2026-09"),
        ("赵淑芬", "13800000103", 1950, "dibao", "money", "3000", "低保证 长南民 2025-0112"),
        ("孙玉兰", "13800000104", 1939, "tekun", "money", "5000", "特困人员供养证 2026-0007"),
        ("周建国", "13800000105", 1949, "entitled", "money", "2400", "优抚对象证 长南优 0815"),
        ("吴秀珍", "13800000106", 1947, "semi_disabled_elder", "hours", "60", "半失能评估报告 2026-10"),
    ];
    let mut registered = 0;
    for (seq, (name, phone, born, category, kind, amount, note)) in people.into_iter().enumerate() {
        let (birth, number) = match seq {
            0 => (NaiveDate::from_ymd_opt(1986, 5, 17), 18),
            _ => (NaiveDate::from_ymd_opt(born, 3, 1), 30 + seq as u16),
        };
        let form = GrantForm {
            legal_name: name.into(),
            phone: phone.into(),
            id_number: ResidentId::compose("220102", birth.unwrap_or_default(), number),
            category: category.into(),
            community: "220102001001".into(),
            year: today.year().to_string(),
            quota_kind: kind.into(),
            quota_amount: amount.into(),
            evidence_note: note.into(),
        };
        let draft = form.parse(&nanguan, today).map_err(|e| anyhow::anyhow!("{:?}", e.0))?;
        store.register_subsidy_grant(&staff, &draft, &evidence_pdf(note), EvidenceType::Pdf).await?;
        registered += 1;
    }
    // The demo resident's next week: two visits the district pays for.
    let menu = store
        .menu_of_agency(agency)
        .await?
        .into_iter()
        .find(|m| m.item == CatalogItem::DailyCleaning.as_str() && m.mode == "per_hour");
    let mut booked = 0;
    if let Some(menu) = menu {
        for days in [5, 6] {
            let start = day_start(today + Duration::days(days)) + Duration::hours(10);
            let request = BookingRequest {
                menu_item_id: menu.id,
                slot: Slot { start, end: start + Duration::hours(2) },
                worker_id: None,
                note: String::new(),
                expected_price_fen: None,
                expected_version: None,
                subsidised: true,
            };
            // A district without room pays for nothing: the demo goes on without it.
            if store.book(resident, &request, None).await.is_ok() {
                booked += 1;
            }
        }
    }
    Ok(format!("{registered} residents registered for subsidised service, {booked} subsidised orders"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_evidence_is_a_pdf_with_a_cross_reference_table_that_points_at_its_objects() {
        let pdf = super::evidence_pdf("test");
        let text = String::from_utf8(pdf.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4") && text.ends_with("%%EOF\n"));
        let xref: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(text[xref..].starts_with("xref"));
        let first: usize = text[xref..].lines().nth(3).unwrap()[..10].parse().unwrap();
        assert!(text[first..].starts_with("1 0 obj"));
    }
}
