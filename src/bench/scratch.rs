//! A bench's own databases: a new folder of SQLite files inside the
//! folder given, or four new PostgreSQL databases on the server given,
//! removed when the bench ends. `lectern bench checkout` and `lectern bench
//! reminders` each name theirs with their own prefix, so one bench's test
//! counting its leftovers does not count the other's.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use lectern_common::db::Backend;

use crate::suite::Databases;

/// The bench's own databases, removed when it ends.
#[derive(Debug)]
pub(crate) struct Scratch {
    pub(crate) databases: Databases,
    place: ScratchPlace,
}

#[derive(Debug)]
enum ScratchPlace {
    Folder(PathBuf),
    Postgres { server_url: String, names: Vec<String> },
}

impl Scratch {
    /// New databases named `{prefix}_{tag}_{service}` (PostgreSQL) or a
    /// folder `{prefix}-{tag}` (SQLite; underscores become dashes). The
    /// prefix is lower-case letters and underscores, at most 17 characters
    /// (PostgreSQL names stop at 63).
    pub(crate) fn create(database_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        match Backend::of_url(database_url) {
            (Backend::Postgres, server_url) => {
                let mut place =
                    ScratchPlace::Postgres { server_url: server_url.to_owned(), names: Vec::new() };
                let mut urls = Vec::new();
                for service in crate::suite::SERVICES {
                    let name = format!("{prefix}_{tag}_{service}");
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
                let folder = Path::new(folder).join(format!("{}-{tag}", prefix.replace('_', "-")));
                std::fs::create_dir_all(&folder)
                    .with_context(|| format!("cannot create {}", folder.display()))?;
                Ok(Self { databases: Databases::in_dir(&folder), place: ScratchPlace::Folder(folder) })
            }
        }
    }

    pub(crate) fn remove(self) -> anyhow::Result<()> {
        self.place.remove()
    }

    /// Removes the databases after a run that used them, and returns the
    /// run's result: the run's error first, else the removal's.
    pub(crate) fn remove_after<T>(self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        let cleaned = self.remove();
        let value = result?;
        cleaned?;
        Ok(value)
    }

    /// What it made: the PostgreSQL databases' names, or the SQLite folder.
    pub(crate) fn made(&self) -> Vec<String> {
        match &self.place {
            ScratchPlace::Folder(folder) => vec![folder.display().to_string()],
            ScratchPlace::Postgres { names, .. } => names.clone(),
        }
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
