//! Turns on the `postgres_tests` cfg when the tests run against PostgreSQL
//! (`LECTERN_TEST_DATABASE_URL` set): the suite's few PostgreSQL-only tests
//! (database rights for `lectern up`) are then run, and otherwise reported
//! as ignored with the reason. Only this package is rebuilt when the
//! variable changes.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LECTERN_TEST_DATABASE_URL");
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    if std::env::var("LECTERN_TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
