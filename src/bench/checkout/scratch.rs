//! The bench's own databases: a new folder of SQLite files inside the
//! folder given, or four new PostgreSQL databases on the server given,
//! removed when the bench ends.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use lectern_common::db::Backend;

use crate::suite::Databases;

/// The bench's own databases, removed when it ends.
#[derive(Debug)]
pub(super) struct Scratch {
    pub(super) databases: Databases,
    place: ScratchPlace,
}

#[derive(Debug)]
enum ScratchPlace {
    Folder(PathBuf),
    Postgres { server_url: String, names: Vec<String> },
}

impl Scratch {
    pub(super) fn create(database_url: &str) -> anyhow::Result<Self> {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        match Backend::of_url(database_url) {
            (Backend::Postgres, server_url) => {
                let mut place =
                    ScratchPlace::Postgres { server_url: server_url.to_owned(), names: Vec::new() };
                let mut urls = Vec::new();
                for service in crate::suite::SERVICES {
                    let name = format!("lectern_bench_{tag}_{service}");
                    match lectern_common::db::create_database(server_url, &name) {
                        Ok(url) => urls.push(url),
                        Err(error) => {
                            // Whatever was made so far goes again.
                            let _ = place.remove();
                            return Err(error).context("creating the bench databases");
                        }
                    }
                    if let ScratchPlace::Postgres { names, .. } = &mut place {
                        names.push(name);
                    }
                }
                let [reader, catalog, circulation, notification] = <[String; 4]>::try_from(urls)
                    .map_err(|_| anyhow::anyhow!("one database per service expected"))?;
                Ok(Self { databases: Databases { reader, catalog, circulation, notification }, place })
            }
            (Backend::Sqlite, folder) => {
                let folder = Path::new(folder).join(format!("lectern-bench-{tag}"));
                std::fs::create_dir_all(&folder)
                    .with_context(|| format!("cannot create {}", folder.display()))?;
                Ok(Self { databases: Databases::in_dir(&folder), place: ScratchPlace::Folder(folder) })
            }
        }
    }

    pub(super) fn remove(self) -> anyhow::Result<()> {
        self.place.remove()
    }
}

impl ScratchPlace {
    fn remove(&self) -> anyhow::Result<()> {
        match self {
            Self::Folder(folder) => std::fs::remove_dir_all(folder)
                .with_context(|| format!("cannot remove the bench folder {}", folder.display())),
            Self::Postgres { server_url, names } => {
                for name in names {
                    lectern_common::db::drop_database(server_url, name)
                        .with_context(|| format!("cannot drop the bench database {name}"))?;
                }
                Ok(())
            }
        }
    }
}
