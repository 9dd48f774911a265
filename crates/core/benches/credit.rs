//! Offline certificate verification and grade recomputation, per call, after start-up.
//! Run: `cargo bench -p jiazheng-core --bench credit`.

use chrono::{DateTime, NaiveDate};
use divan::black_box;
use ed25519_dalek::SigningKey;
use jiazheng_core::credit::EntryKind;
use jiazheng_core::credit::certificate::Colour;
use jiazheng_core::credit::grade::{Fact, Standing, Weights, grade};
use jiazheng_core::credit::token::{self, Claims};

fn main() {
    divan::main();
}

#[divan::bench]
fn verify_a_certificate_token(bencher: divan::Bencher) {
    let key = SigningKey::from_bytes(&[5; 32]);
    let public = key.verifying_key();
    let claims = Claims {
        number: "JZ-220102-000123".into(),
        name_masked: "王*英".into(),
        status: Colour::Green,
        valid_until: NaiveDate::from_ymd_opt(2027, 6, 1).unwrap(),
        key_id: 1,
        issued_at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
    let issued = token::issue(&claims, &key);
    bencher.bench(|| token::verify(black_box(&issued), |id| (id == 1).then_some(public)).unwrap());
}

/// A worker with a long record: 300 ratings, 12 trainings, complaints, rewards.
#[divan::bench]
fn recompute_a_worker_grade(bencher: divan::Bencher) {
    let weights = Weights::shipped();
    let mut facts = vec![Fact { seq: 1, kind: EntryKind::IdentityVerified, value: None, detail: None }];
    for i in 0..300 {
        facts.push(Fact { seq: 10 + i, kind: EntryKind::Rating, value: Some(3.0 + (i % 3) as f64), detail: None });
    }
    for i in 0..12 {
        facts.push(Fact { seq: 400 + i, kind: EntryKind::Training, value: Some(1.0), detail: None });
    }
    facts.push(Fact { seq: 500, kind: EntryKind::ComplaintUpheld, value: None, detail: None });
    facts.push(Fact { seq: 501, kind: EntryKind::Reward, value: None, detail: None });
    let standing = Some(Standing { health_valid: true, insured: true });
    bencher.bench(|| grade(black_box(&facts), standing, &weights));
}
