//! Embeds the migration files in the binary: writes `migrations.rs` into OUT_DIR with one
//! `(version, description, include_str!(…))` per file and engine. (sqlx's `migrate!` macro does
//! the same, but its macro crate compiles both database drivers a second time for the host.)

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // Worktrees of this repository that share one target directory share this script's output
    // too (a path package's build hash does not include where it lies), and a directory's
    // modification time does not say which worktree ran last. A path that never exists makes
    // cargo run the script every build; writing only a changed file keeps that cheap.
    println!("cargo:rerun-if-changed=migrations/.always-rerun");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut out = String::new();
    for engine in ["sqlite", "postgres"] {
        let dir = root.join(engine);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("migrations directory")
            .map(|entry| entry.expect("migration file").path())
            .filter(|path| path.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        writeln!(out, "pub const {}: &[(i64, &str, &str)] = &[", engine.to_uppercase()).unwrap();
        for path in files {
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 file name");
            let (version, description) = stem.split_once('_').expect("migration named NNNN_description.sql");
            let version: i64 = version.parse().expect("migration version is a number");
            let description = description.replace('_', " ");
            writeln!(out, "    ({version}, {description:?}, include_str!({:?})),", path.display().to_string()).unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let target = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("migrations.rs");
    if std::fs::read_to_string(&target).ok().as_deref() != Some(out.as_str()) {
        std::fs::write(target, out).expect("write migrations.rs");
    }
}
