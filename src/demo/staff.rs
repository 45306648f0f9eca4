//! The demo's sign-ins: the district admin's, and the named staff a person
//! (or a browser test) signs in as at the desk — a librarian and an
//! assistant of the primary school, and a librarian of both schools, who
//! chooses the school they stand in. Every account's one-time password is
//! spent at once for one of its own, which the `up` banner prints.

use std::collections::HashMap;

use anyhow::Context as _;
use lectern_core::client::with_bearer;
use lectern_proto::gateway::v1::gateway_service_client::GatewayServiceClient;
use lectern_proto::reader::v1::identity_service_client::IdentityServiceClient;
use lectern_proto::reader::v1::{
    ChangePasswordRequest, CreateStaffAccountRequest, LoginRequest, StaffCredentials, StaffRole,
    login_request,
};
use tonic::transport::Channel;

use super::{DEADLINE, lookup};

/// A staff member's sign-in after the demo load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSignIn {
    /// Username.
    pub username: String,
    /// The password the loader set (the one-time password is spent).
    pub password: String,
    /// A bearer token for the account.
    pub token: String,
}

/// A named demo staff member of the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStaff {
    /// What the `up` banner calls them: "librarian", "assistant" or
    /// "district librarian" (browser tests find their line by it).
    pub label: &'static str,
    /// The name the desk pages show.
    pub display_name: &'static str,
    /// What they may do.
    pub role: StaffRole,
    /// The names of the schools they work for.
    pub school_names: Vec<String>,
    /// Their username and password.
    pub sign_in: DemoSignIn,
}

/// Who the demo's staff are.
struct Member {
    label: &'static str,
    username: &'static str,
    display_name: &'static str,
    role: StaffRole,
    school_codes: &'static [&'static str],
}

const STAFF: [Member; 3] = [
    Member {
        label: "librarian",
        username: "xh-librarian",
        display_name: "王老师",
        role: StaffRole::Librarian,
        school_codes: &["XH-PRI"],
    },
    Member {
        label: "assistant",
        username: "xh-assistant",
        display_name: "李同学",
        role: StaffRole::Assistant,
        school_codes: &["XH-PRI"],
    },
    Member {
        label: "district librarian",
        username: "district-librarian",
        display_name: "陈老师",
        role: StaffRole::Librarian,
        school_codes: &["XH-PRI", "XH-MID"],
    },
];

/// Adds the demo's staff accounts with an admin's token and signs each in
/// once to choose its own password. `school_ids` and `school_names` are
/// keyed by school code.
pub(super) async fn add_staff(
    channel: &Channel,
    token: &str,
    school_ids: &HashMap<String, String>,
    school_names: &HashMap<String, String>,
) -> anyhow::Result<Vec<DemoStaff>> {
    let added = STAFF.iter().map(|member| async move {
        let ids =
            member.school_codes.iter().map(|code| lookup(school_ids, *code)).collect::<Result<_, _>>()?;
        let school_names =
            member.school_codes.iter().map(|code| lookup(school_names, *code)).collect::<Result<_, _>>()?;
        let one_time_password = lectern_reader::generate_password();
        IdentityServiceClient::new(channel.clone())
            .create_staff_account(with_bearer(
                CreateStaffAccountRequest {
                    username: member.username.to_owned(),
                    display_name: member.display_name.to_owned(),
                    role: member.role.into(),
                    initial_password: one_time_password.clone(),
                    school_ids: ids,
                    request_id: String::new(),
                },
                token,
                DEADLINE,
            ))
            .await
            .with_context(|| format!("adding the demo staff account {}", member.username))?;
        let sign_in = sign_in_and_rotate(channel, member.username, &one_time_password).await?;
        Ok::<_, anyhow::Error>(DemoStaff {
            label: member.label,
            display_name: member.display_name,
            role: member.role,
            school_names,
            sign_in,
        })
    });
    futures::future::try_join_all(added).await
}

/// Signs in as a staff member; when the password is a one-time one (the
/// first admin's, a new account's), chooses a new one, since that is all it
/// allows.
pub async fn sign_in_and_rotate(
    channel: &Channel,
    username: &str,
    password: &str,
) -> anyhow::Result<DemoSignIn> {
    let mut gateway = GatewayServiceClient::new(channel.clone());
    let login = gateway
        .login(LoginRequest {
            credentials: Some(login_request::Credentials::Staff(StaffCredentials {
                username: username.to_owned(),
                password: password.to_owned(),
            })),
        })
        .await
        .with_context(|| format!("signing in as {username}"))?
        .into_inner();
    if !login.password_change_required {
        return Ok(DemoSignIn {
            username: username.to_owned(),
            password: password.to_owned(),
            token: login.access_token,
        });
    }
    let new_password = lectern_reader::generate_password();
    let mut identity = IdentityServiceClient::new(channel.clone());
    let changed = identity
        .change_password(with_bearer(
            ChangePasswordRequest {
                current_password: password.to_owned(),
                new_password: new_password.clone(),
            },
            &login.access_token,
            DEADLINE,
        ))
        .await
        .with_context(|| format!("choosing a new password for {username}"))?
        .into_inner();
    let token = changed.login.map(|login| login.access_token).unwrap_or_default();
    Ok(DemoSignIn { username: username.to_owned(), password: new_password, token })
}
