//! The authorisation table (`access::RULES`) covers every route the router serves, and the gate
//! refuses every role the table does not name, on every route, before any handler runs.

mod common;

use std::collections::BTreeSet;

use common::TestApp;
use jiazheng_core::account::Role;
use jiazheng_server::access::{Gate, RULES};

/// Every `(method, path)` the server's source registers with `.route(...)`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root.clone()];
    let mut found = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let prefix = if path.components().any(|c| c.as_os_str() == "api") { "/api/v1" } else { "" };
        for (at, _) in text.match_indices(".route(") {
            let rest = &text[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { continue };
            let Some(close) = rest[open + 1..].find('"') else { continue };
            let path = &rest[open + 1..open + 1 + close];
            // The method chain runs to the call's closing parenthesis.
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let chain = &rest[open + 1 + close..end];
            for method in ["get", "post", "put", "delete", "patch"] {
                let called = chain
                    .match_indices(&format!("{method}("))
                    .any(|(i, _)| i == 0 || !chain[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'));
                if called {
                    found.insert((method.to_uppercase(), format!("{prefix}{path}")));
                }
            }
        }
    }
    found
}

#[test]
fn every_route_has_exactly_one_rule_and_every_rule_a_route() {
    let routes = routes_in_source();
    assert!(routes.len() > 100, "the walk found {} routes", routes.len());
    let rules: BTreeSet<(String, String)> = RULES.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    assert_eq!(rules.len(), RULES.len(), "a route has two rules");
    let missing: Vec<_> = routes.difference(&rules).collect();
    assert!(missing.is_empty(), "routes without an access rule: {missing:?}");
    let stale: Vec<_> = rules.difference(&routes).collect();
    assert!(stale.is_empty(), "rules for routes that do not exist: {stale:?}");
}

/// A path of the table with its parameters filled in.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(match &rest[open + 1..close] {
            "action" => "confirm",
            "decision" => "approve",
            "list" => "red",
            "kind" => "health",
            "name" => "workers.xlsx",
            "file" => "app.css",
            "code" => "en",
            "token" => "x",
            "number" => "JZ-220102-000001",
            _ => "1",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn the_gate_refuses_every_role_the_table_does_not_name_on_every_route() {
    let app = TestApp::spawn().await;
    let worker = app.employ(1, "王芳", "cleaning").await;
    app.worker_account("worker", "王芳", worker).await;
    for (name, role) in [
        ("school", Role::School),
        ("bank", Role::Bank),
        ("staff", Role::CommunityStaff),
        ("evaluator", Role::Evaluator),
    ] {
        app.plain_account(name, role).await;
    }
    let accounts = [
        ("resident", Role::Resident),
        ("worker", Role::Worker),
        ("agency_a", Role::AgencyAdmin),
        ("staff", Role::CommunityStaff),
        ("school", Role::School),
        ("evaluator", Role::Evaluator),
        ("city", Role::Regulator),
        ("bank", Role::Bank),
        ("admin", Role::SystemAdmin),
    ];
    let mut tokens = Vec::new();
    for (name, role) in accounts {
        tokens.push((role, app.token(name).await));
    }
    let mut checked = 0;
    for rule in RULES {
        let method = reqwest::Method::from_bytes(rule.method.as_bytes()).unwrap();
        let url = app.url(&concrete(rule.path));
        let mut callers: Vec<(Option<Role>, Option<&str>)> = vec![(None, None)];
        callers.extend(tokens.iter().map(|(role, token)| (Some(*role), Some(token.as_str()))));
        for (role, token) in callers {
            let Err(denied) = rule.gate.admits(role) else { continue };
            let mut request = app.client.request(method.clone(), &url).header("accept", "application/json");
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.body("{}").header("content-type", "application/json").send().await.unwrap();
            let expected = denied.status().as_u16();
            assert_eq!(response.status().as_u16(), expected, "{} {} as {role:?}", rule.method, rule.path);
            checked += 1;
        }
    }
    let gated = RULES.iter().filter(|r| r.gate != Gate::Public).count();
    assert!(checked >= gated * 2, "{checked} refusals checked over {gated} gated routes");
}
