//! Credit: the append-only, hash-chained ledger of every credit-relevant fact about a worker or
//! an agency, signed checkpoints over it, and the home-service certificate whose signed token can
//! be checked at the door without a network.

pub mod background;
pub mod casework;
pub mod certificate;
pub mod grade;
pub mod ledger;
pub mod report;
pub mod token;

use crate::choice;

choice!(
    SubjectKind {
        Worker = ("worker", "家政服务员", "Worker"),
        Agency = ("agency", "家政企业", "Agency"),
    }
);

choice!(
    /// What a ledger entry records.
    EntryKind {
        IdentityVerified = ("identity_verified", "身份核验", "Identity verified"),
        BackgroundCheck = ("background_check", "背景审查", "Background check"),
        Training = ("training", "培训考核", "Training and exam"),
        Certificate = ("certificate", "技能证书", "Skill certificate"),
        HealthCheck = ("health_check", "健康体检", "Health check"),
        Insurance = ("insurance", "保险", "Insurance"),
        Binding = ("binding", "企业关联", "Agency binding"),
        Service = ("service", "服务记录", "Completed service"),
        Contract = ("contract", "签订示范合同", "Model contract signed"),
        Rating = ("rating", "消费者评价", "Rating"),
        ComplaintUpheld = ("complaint_upheld", "投诉成立", "Upheld complaint"),
        Reward = ("reward", "表彰奖励", "Reward"),
        Penalty = ("penalty", "行政处罚", "Penalty"),
        ListDecision = ("list_decision", "红黑名单", "Red/black list decision"),
        CertificateIssued = ("certificate_issued", "上门服务证发放", "Home-service certificate issued"),
        CertificateRevoked = ("certificate_revoked", "上门服务证吊销", "Home-service certificate revoked"),
        Correction = ("correction", "更正", "Correction"),
        Appeal = ("appeal", "申诉", "Appeal"),
        FalseEntry = ("false_entry", "虚假填报", "False entry by the agency"),
        RegistrationChanged = ("registration_changed", "登记信息变更", "Registration changed"),
    }
);

choice!(
    /// How a worker's identity was verified.
    IdentityMethod {
        IdCard = ("id_card", "查验身份证原件", "ID card seen in person"),
        FaceMatch = ("face_match", "人证比对", "Face matched to the ID card"),
        PoliceCheck = ("police_check", "公安核查", "Checked with the police"),
    }
);
