//! Compiles every Lectern .proto into Rust, plus one encoded descriptor set
//! that the servers hand to gRPC reflection.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "lectern/common/v1/errors.proto",
    "lectern/events/v1/events.proto",
    "lectern/reader/v1/reader.proto",
    "lectern/reader/v1/identity.proto",
    "lectern/reader/v1/audit.proto",
    "lectern/reader/v1/profile.proto",
    "lectern/reader/v1/school_year.proto",
    "lectern/reader/v1/roster.proto",
    "lectern/reader/v1/family.proto",
    "lectern/catalog/v1/catalog.proto",
    "lectern/catalog/v1/collection.proto",
    "lectern/catalog/v1/stocktake.proto",
    "lectern/catalog/v1/marc.proto",
    "lectern/catalog/v1/discovery.proto",
    "lectern/circulation/v1/loans.proto",
    "lectern/circulation/v1/holds.proto",
    "lectern/circulation/v1/fees.proto",
    "lectern/circulation/v1/rules.proto",
    "lectern/circulation/v1/calendars.proto",
    "lectern/notification/v1/notification.proto",
    "lectern/notification/v1/reminders.proto",
    "lectern/gateway/v1/gateway.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    let includes = [PathBuf::from("."), include];
    let protos: Vec<PathBuf> = PROTOS.iter().map(PathBuf::from).collect();
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("lectern_descriptor.bin"))
        .compile_with_config(config, &protos, &includes)?;
    Ok(())
}
