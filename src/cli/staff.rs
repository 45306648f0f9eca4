//! Staff accounts, for district admins: `staff add|list|schools`. A new
//! account gets a one-time password, shown once; its owner chooses their
//! own at the first `lectern login`.

use anyhow::bail;
use lectern_proto::reader::v1::{
    CreateStaffAccountRequest, ListStaffAccountsRequest, School, SetStaffAccountDisabledRequest,
    SetStaffSchoolsRequest, StaffAccount, StaffRole,
};

use super::Connection;
use super::desk::{Desk, all_pages, request_id, retrying};
use super::format::staff_role;
use super::schools::{MAX_PAGES, all_schools, school_id};
use super::table::{Table, clean};

/// `lectern staff …`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StaffCommand {
    /// Add a staff account with a one-time password (district admins only). 添加馆员
    #[command(after_help = "Examples:\n  \
        lectern staff add li.hua --name 李华 --role librarian --school XH-PRI\n  \
        lectern staff add wang.fang --name 王芳 --role assistant --school XH-PRI --school XH-MID\n  \
        lectern staff add zhao.lei --name 赵磊 --role district-admin")]
    Add {
        /// Sign-in name: 3–64 of a-z, 0-9, ".", "_", "-"
        username: String,
        /// The name shown at the desk, e.g. 李华
        #[arg(long)]
        name: String,
        /// What the account may do
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A school the librarian or assistant works for: its code or id
        /// (repeat for several; none for a district admin)
        #[arg(long = "school", value_name = "SCHOOL")]
        schools: Vec<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// List staff accounts with their roles and schools. 馆员列表
    List {
        #[command(flatten)]
        connection: Connection,
    },
    /// Set the schools a librarian or assistant works for (from their next sign-in or token renewal). 设置馆员学校
    #[command(after_help = "Example:\n  lectern staff schools li.hua --school XH-PRI --school XH-MID")]
    Schools {
        /// The account's sign-in name
        username: String,
        /// A school they work for: its code or id (repeat for several; replaces the current ones)
        #[arg(long = "school", value_name = "SCHOOL", required = true)]
        schools: Vec<String>,
        #[command(flatten)]
        connection: Connection,
    },
    /// Disable an account (someone left): sign-ins refused, signed out everywhere. 停用馆员账号
    #[command(after_help = "Example:\n  lectern staff disable li.hua")]
    Disable {
        /// The account's sign-in name
        username: String,
        #[command(flatten)]
        connection: Connection,
    },
    /// Enable a disabled account again. 启用馆员账号
    Enable {
        /// The account's sign-in name
        username: String,
        #[command(flatten)]
        connection: Connection,
    },
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Runs the district: schools, accounts, every library
    DistrictAdmin,
    /// Runs the libraries of their schools
    Librarian,
    /// Helps at the desk of their schools: check-out, check-in
    Assistant,
}

impl From<RoleArg> for StaffRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::DistrictAdmin => StaffRole::DistrictAdmin,
            RoleArg::Librarian => StaffRole::Librarian,
            RoleArg::Assistant => StaffRole::Assistant,
        }
    }
}

/// `lectern staff …`.
pub async fn run_staff(command: StaffCommand) -> anyhow::Result<()> {
    match command {
        StaffCommand::Add { username, name, role, schools, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_ids = school_ids(&desk, &schools).await?;
            let one_time_password = lectern_reader::generate_password();
            let message = CreateStaffAccountRequest {
                username,
                display_name: name,
                role: StaffRole::from(role).into(),
                initial_password: one_time_password.clone(),
                school_ids,
                request_id: request_id(),
            };
            let client = desk.identity();
            let account = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.create_staff_account(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            println!("staff account added: {} ({})", clean(&account.username), staff_role(account.role));
            println!(
                "one-time password (shown once; they choose their own at first sign-in): {one_time_password}"
            );
        }
        StaffCommand::List { connection } => {
            let desk = Desk::open(&connection).await?;
            let accounts = all_accounts(&desk).await?;
            let schools = all_schools(&desk).await?;
            print!("{}", accounts_table(&accounts, &schools).render(""));
        }
        StaffCommand::Schools { username, schools, connection } => {
            let desk = Desk::open(&connection).await?;
            let school_ids = school_ids(&desk, &schools).await?;
            let account = account_named(&desk, &username).await?;
            let message =
                SetStaffSchoolsRequest { staff_id: account.id.clone(), school_ids, request_id: request_id() };
            let client = desk.identity();
            let account = retrying(|| {
                let mut client = client.clone();
                let call = desk.request(message.clone());
                async move { client.set_staff_schools(call).await.map(tonic::Response::into_inner) }
            })
            .await
            .map_err(|status| desk.fail(status))?;
            let all = all_schools(&desk).await?;
            println!(
                "{} now works for: {} (from their next sign-in or token renewal, within the hour)",
                clean(&account.username),
                school_codes(&account.school_ids, &all)
            );
        }
        StaffCommand::Disable { username, connection } => set_disabled(&connection, &username, true).await?,
        StaffCommand::Enable { username, connection } => set_disabled(&connection, &username, false).await?,
    }
    Ok(())
}

/// Disables or enables the account signing in as `username`.
async fn set_disabled(connection: &Connection, username: &str, disabled: bool) -> anyhow::Result<()> {
    let desk = Desk::open(connection).await?;
    let account = account_named(&desk, username).await?;
    let message =
        SetStaffAccountDisabledRequest { staff_id: account.id.clone(), disabled, request_id: request_id() };
    let client = desk.identity();
    let account = retrying(|| {
        let mut client = client.clone();
        let call = desk.request(message.clone());
        async move { client.set_staff_account_disabled(call).await.map(tonic::Response::into_inner) }
    })
    .await
    .map_err(|status| desk.fail(status))?;
    if account.disabled {
        println!("{} is disabled: signed out everywhere, and sign-ins are refused", clean(&account.username));
    } else {
        println!("{} is enabled again and can sign in", clean(&account.username));
    }
    Ok(())
}

/// The account signing in as `username` (any case).
async fn account_named(desk: &Desk, username: &str) -> anyhow::Result<StaffAccount> {
    let wanted = username.trim().to_lowercase();
    let accounts = all_accounts(desk).await?;
    match accounts.into_iter().find(|account| account.username == wanted) {
        Some(account) => Ok(account),
        None => bail!("no staff account is named {wanted:?}: `lectern staff list` shows them"),
    }
}

async fn school_ids(desk: &Desk, arguments: &[String]) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(arguments.len());
    for argument in arguments {
        ids.push(school_id(desk, argument).await?);
    }
    Ok(ids)
}

async fn all_accounts(desk: &Desk) -> anyhow::Result<Vec<StaffAccount>> {
    let client = desk.identity();
    all_pages(MAX_PAGES, |page_token| {
        let mut client = client.clone();
        let call = desk.request(ListStaffAccountsRequest { page_size: 500, page_token });
        async move {
            let page = client.list_staff_accounts(call).await?.into_inner();
            Ok((page.accounts, page.next_page_token))
        }
    })
    .await
    .map_err(|status| desk.fail(status))
}

/// The codes of `school_ids` ("every school" for none).
fn school_codes(school_ids: &[String], schools: &[School]) -> String {
    if school_ids.is_empty() {
        return "every school".to_owned();
    }
    school_ids
        .iter()
        .map(|id| {
            schools
                .iter()
                .find(|school| &school.id == id)
                .map_or_else(|| id.clone(), |school| clean(&school.code))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn accounts_table(accounts: &[StaffAccount], schools: &[School]) -> Table {
    let mut table = Table::new(&["USERNAME", "NAME", "ROLE", "SCHOOLS"]);
    for account in accounts {
        table.row(vec![
            account.username.clone(),
            account.display_name.clone(),
            if account.disabled {
                format!("{} (disabled)", staff_role(account.role))
            } else {
                staff_role(account.role).to_owned()
            },
            school_codes(&account.school_ids, schools),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_schools_by_code() {
        let schools = vec![School { id: "s1".into(), code: "XH-PRI".into(), ..School::default() }];
        let accounts = vec![
            StaffAccount {
                username: "admin".into(),
                display_name: "Admin".into(),
                role: StaffRole::DistrictAdmin.into(),
                ..StaffAccount::default()
            },
            StaffAccount {
                username: "li.hua".into(),
                display_name: "李华".into(),
                role: StaffRole::Librarian.into(),
                school_ids: vec!["s1".into(), "gone".into()],
                disabled: true,
                ..StaffAccount::default()
            },
        ];
        let text = accounts_table(&accounts, &schools).render("");
        assert!(text.contains("every school"), "{text}");
        assert!(text.contains("XH-PRI, gone"), "{text}");
        assert!(text.contains("librarian (disabled)"), "{text}");
    }
}
