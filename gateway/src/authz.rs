//! Coarse authorization at the edge: which kind of caller may call which
//! method at all. Each service checks precisely, on its own data, again;
//! this table keeps obviously forbidden calls from ever leaving the gateway
//! and is the map in `docs/permissions.md`. A method not listed here is not
//! exposed: adding a method to a .proto means adding its line here.

use lectern_core::identity::{Principal, Role, SubjectKind};

/// Who may call a method through the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token (sign-in).
    Public,
    /// Any signed-in staff member.
    Staff,
    /// Staff, or a signed-in reader (the service then shows a reader only
    /// their own records).
    StaffOrReader,
    /// Librarians and district admins, not assistants (year-end).
    Librarian,
    /// District admins only.
    DistrictAdmin,
    /// Staff, or a self-service device by itself (catalog search and copy
    /// look-ups at a kiosk before anyone signs in).
    StaffOrDevice,
    /// Anyone signed in at the edge: staff, readers and self-service
    /// devices (the district's catalog, "who am I", signing out).
    SignedIn,
}

/// Per method (full path) or per service (path prefix ending in `/`).
/// The first matching line wins, so exact methods come before their service.
const RULES: &[(&str, Access)] = &[
    ("/lectern.gateway.v1.GatewayService/Login", Access::Public),
    ("/lectern.gateway.v1.GatewayService/WhoAmI", Access::SignedIn),
    ("/lectern.reader.v1.ReaderService/GetReader", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/ListLoans", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/GetLoan", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/ListFees", Access::StaffOrReader),
    ("/lectern.notification.v1.NotificationService/ListNotices", Access::StaffOrReader),
    // Readers borrow and return themselves at a kiosk; circulation checks
    // that the reader signed in at the device and acts for themselves.
    ("/lectern.circulation.v1.CirculationService/CheckOut", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/CheckIn", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/Renew", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/RenewAll", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/PlaceHold", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/CancelHold", Access::StaffOrReader),
    ("/lectern.circulation.v1.CirculationService/ListHolds", Access::StaffOrReader),
    ("/lectern.catalog.v1.CatalogService/SearchTitles", Access::SignedIn),
    ("/lectern.catalog.v1.CatalogService/GetTitle", Access::SignedIn),
    ("/lectern.catalog.v1.CatalogService/LookupTitle", Access::SignedIn),
    // Home-screen lists of the portal and the kiosk.
    ("/lectern.catalog.v1.DiscoveryService/ListNewArrivals", Access::SignedIn),
    ("/lectern.catalog.v1.DiscoveryService/ListPopularTitles", Access::SignedIn),
    ("/lectern.reader.v1.ReaderService/ExportReaderData", Access::StaffOrReader),
    ("/lectern.reader.v1.ReaderService/CreateReaderCategory", Access::DistrictAdmin),
    ("/lectern.reader.v1.ReaderService/UpdateReaderCategory", Access::DistrictAdmin),
    // People sign in at the edge with GatewayService/Login; the reader
    // service's own Login also takes service credentials and stays internal.
    ("/lectern.reader.v1.IdentityService/ListVerificationKeys", Access::Public),
    ("/lectern.reader.v1.IdentityService/ChangePassword", Access::Staff),
    ("/lectern.reader.v1.IdentityService/RefreshSession", Access::Public),
    ("/lectern.reader.v1.IdentityService/Logout", Access::SignedIn),
    ("/lectern.reader.v1.IdentityService/RotateSigningKey", Access::DistrictAdmin),
    ("/lectern.reader.v1.IdentityService/CreateDevice", Access::Staff),
    ("/lectern.reader.v1.IdentityService/ListDevices", Access::Staff),
    ("/lectern.reader.v1.IdentityService/DisableDevice", Access::Staff),
    ("/lectern.catalog.v1.CatalogService/LookupCopy", Access::StaffOrDevice),
    ("/lectern.reader.v1.IdentityService/CreateStaffAccount", Access::DistrictAdmin),
    ("/lectern.reader.v1.IdentityService/ListStaffAccounts", Access::DistrictAdmin),
    ("/lectern.reader.v1.IdentityService/SetStaffSchools", Access::DistrictAdmin),
    ("/lectern.reader.v1.IdentityService/SetStaffAccountDisabled", Access::DistrictAdmin),
    ("/lectern.reader.v1.ReaderService/CreateSchool", Access::DistrictAdmin),
    ("/lectern.reader.v1.AuditService/", Access::DistrictAdmin),
    ("/lectern.reader.v1.ReaderProfileService/ListReaderContacts", Access::StaffOrReader),
    ("/lectern.reader.v1.ReaderProfileService/GetNotificationPreferences", Access::StaffOrReader),
    ("/lectern.reader.v1.ReaderProfileService/UpdateNotificationPreferences", Access::StaffOrReader),
    ("/lectern.reader.v1.ReaderProfileService/", Access::Staff),
    ("/lectern.reader.v1.SchoolYearService/", Access::Librarian),
    // Admins and librarians; the reader service refuses assistants and
    // librarians of other schools.
    ("/lectern.reader.v1.RosterService/ImportRoster", Access::Staff),
    ("/lectern.reader.v1.ReaderService/", Access::Staff),
    ("/lectern.catalog.v1.CatalogService/", Access::Staff),
    // The collection's upkeep: the catalog refuses assistants' changes and
    // other schools' records; item types and the shelves are for everyone.
    ("/lectern.catalog.v1.CollectionService/ListItemTypes", Access::SignedIn),
    ("/lectern.catalog.v1.CollectionService/BrowseShelf", Access::SignedIn),
    ("/lectern.catalog.v1.CollectionService/CreateItemType", Access::DistrictAdmin),
    ("/lectern.catalog.v1.CollectionService/", Access::Staff),
    // Stocktake: librarians start, finalize (preview and confirm) and
    // cancel; all staff scan and read progress and reports. The catalog
    // refuses another school's sessions.
    ("/lectern.catalog.v1.StocktakeService/StartStocktake", Access::Librarian),
    ("/lectern.catalog.v1.StocktakeService/FinalizeStocktake", Access::Librarian),
    ("/lectern.catalog.v1.StocktakeService/CancelStocktake", Access::Librarian),
    ("/lectern.catalog.v1.StocktakeService/", Access::Staff),
    // MARC import, export and ISBN intake: librarians and district admins;
    // the catalog service refuses librarians of other schools.
    ("/lectern.catalog.v1.MarcService/ImportMarc", Access::Librarian),
    ("/lectern.catalog.v1.MarcService/ExportMarc", Access::Librarian),
    ("/lectern.catalog.v1.MarcService/IntakeIsbn", Access::Librarian),
    ("/lectern.circulation.v1.CirculationService/", Access::Staff),
    ("/lectern.notification.v1.NotificationService/", Access::Staff),
];

/// The access rule of a method path, if it is exposed.
pub fn access(path: &str) -> Option<Access> {
    RULES
        .iter()
        .find(|(pattern, _)| {
            if pattern.ends_with('/') {
                path.starts_with(pattern) && path.len() > pattern.len()
            } else {
                path == *pattern
            }
        })
        .map(|(_, access)| *access)
}

/// The methods anyone may call without a token.
pub fn public_methods() -> impl Iterator<Item = &'static str> {
    RULES.iter().filter(|(_, access)| *access == Access::Public).map(|(path, _)| *path)
}

/// Whether `principal` may call a method with rule `access`.
pub fn allows(access: Access, principal: Option<&Principal>) -> bool {
    let staff_role = principal
        .filter(|principal| principal.kind == SubjectKind::Staff)
        .and_then(|principal| principal.role);
    match access {
        Access::Public => true,
        Access::Staff => staff_role.is_some(),
        Access::StaffOrReader => {
            staff_role.is_some() || principal.is_some_and(|principal| principal.kind == SubjectKind::Reader)
        }
        Access::Librarian => matches!(staff_role, Some(Role::Librarian | Role::DistrictAdmin)),
        Access::DistrictAdmin => staff_role == Some(Role::DistrictAdmin),
        Access::SignedIn => match principal.map(|principal| principal.kind) {
            Some(SubjectKind::Staff) => staff_role.is_some(),
            Some(SubjectKind::Reader | SubjectKind::Device) => true,
            Some(SubjectKind::Service) | None => false,
        },
        Access::StaffOrDevice => {
            staff_role.is_some() || principal.is_some_and(|principal| principal.kind == SubjectKind::Device)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(kind: SubjectKind, role: Option<Role>) -> Principal {
        Principal {
            subject_id: "s".into(),
            kind,
            role,
            schools: Vec::new(),
            session_id: None,
            device_id: None,
            password_change_required: false,
            expires_at: chrono::Utc::now(),
            token: String::new(),
        }
    }

    #[test]
    fn exact_rules_win_over_service_rules() {
        assert_eq!(access("/lectern.reader.v1.ReaderService/CreateSchool"), Some(Access::DistrictAdmin));
        assert_eq!(access("/lectern.reader.v1.ReaderService/CreateReader"), Some(Access::Staff));
        assert_eq!(access("/lectern.reader.v1.ReaderService/"), None);
        assert_eq!(access("/lectern.reader.v1.ReaderService/ExportReaderData"), Some(Access::StaffOrReader));
        assert_eq!(
            access("/lectern.reader.v1.ReaderService/UpdateReaderCategory"),
            Some(Access::DistrictAdmin)
        );
        assert_eq!(access("/lectern.reader.v1.ReaderService/EraseReader"), Some(Access::Staff));
        assert_eq!(access("/lectern.reader.v1.RosterService/ImportRoster"), Some(Access::Staff));
        assert_eq!(access("/lectern.reader.v1.AuditService/ListAuditEvents"), Some(Access::DistrictAdmin));
    }

    #[test]
    fn internal_services_are_not_exposed() {
        assert_eq!(access("/lectern.events.v1.EventSink/Deliver"), None);
        assert_eq!(access("/lectern.reader.v1.IdentityService/Login"), None);
        assert_eq!(access("/grpc.health.v1.Health/Check"), None);
    }

    #[test]
    fn roles_are_checked() {
        let librarian = principal(SubjectKind::Staff, Some(Role::Librarian));
        let admin = principal(SubjectKind::Staff, Some(Role::DistrictAdmin));
        let service = principal(SubjectKind::Service, None);
        assert!(allows(Access::Staff, Some(&librarian)));
        assert!(!allows(Access::DistrictAdmin, Some(&librarian)));
        assert!(allows(Access::DistrictAdmin, Some(&admin)));
        assert!(!allows(Access::Staff, Some(&service)));
        assert!(!allows(Access::Staff, None));
        let reader = principal(SubjectKind::Reader, None);
        assert!(allows(Access::StaffOrReader, Some(&reader)));
        assert!(!allows(Access::Staff, Some(&reader)));
        assert!(!allows(Access::StaffOrReader, Some(&service)));
        assert!(allows(Access::Public, None));
        let device = principal(SubjectKind::Device, None);
        assert!(allows(Access::SignedIn, Some(&device)));
        assert!(allows(Access::SignedIn, Some(&reader)));
        assert!(allows(Access::SignedIn, Some(&librarian)));
        assert!(!allows(Access::SignedIn, Some(&service)));
        assert!(!allows(Access::SignedIn, None));
        assert!(!allows(Access::StaffOrReader, Some(&device)));
        let assistant = principal(SubjectKind::Staff, Some(Role::Assistant));
        assert!(allows(Access::Librarian, Some(&librarian)));
        assert!(allows(Access::Librarian, Some(&admin)));
        assert!(!allows(Access::Librarian, Some(&assistant)));
        assert!(!allows(Access::Librarian, Some(&reader)));
        assert!(allows(Access::StaffOrDevice, Some(&device)));
        assert!(allows(Access::StaffOrDevice, Some(&librarian)));
        assert!(!allows(Access::StaffOrDevice, Some(&reader)));
        assert!(!allows(Access::Staff, Some(&device)));
    }

    #[test]
    fn profiles_and_year_end_are_exposed() {
        let profile = "/lectern.reader.v1.ReaderProfileService/";
        assert_eq!(access(&format!("{profile}ListReaderContacts")), Some(Access::StaffOrReader));
        assert_eq!(access(&format!("{profile}UpdateNotificationPreferences")), Some(Access::StaffOrReader));
        assert_eq!(access(&format!("{profile}CreateReaderNote")), Some(Access::Staff));
        assert_eq!(access("/lectern.reader.v1.SchoolYearService/ApplyYearEnd"), Some(Access::Librarian));
    }

    #[test]
    fn devices_reach_only_search_copy_lookup_and_sign_out() {
        assert_eq!(access("/lectern.catalog.v1.CatalogService/SearchTitles"), Some(Access::SignedIn));
        assert_eq!(access("/lectern.catalog.v1.CatalogService/LookupCopy"), Some(Access::StaffOrDevice));
        assert_eq!(access("/lectern.catalog.v1.CatalogService/CreateCopy"), Some(Access::Staff));
        assert_eq!(access("/lectern.reader.v1.IdentityService/RefreshSession"), Some(Access::Public));
        assert_eq!(access("/lectern.reader.v1.IdentityService/Logout"), Some(Access::SignedIn));
        assert_eq!(access("/lectern.reader.v1.IdentityService/ListRevokedSessions"), None);
    }

    #[test]
    fn librarians_run_stocktakes_and_all_staff_scan() {
        let stocktake = "/lectern.catalog.v1.StocktakeService/";
        for method in ["StartStocktake", "FinalizeStocktake", "CancelStocktake"] {
            assert_eq!(access(&format!("{stocktake}{method}")), Some(Access::Librarian), "{method}");
        }
        for method in ["RecordScans", "GetStocktake", "ListStocktakes", "GetStocktakeReport"] {
            assert_eq!(access(&format!("{stocktake}{method}")), Some(Access::Staff), "{method}");
        }
    }

    #[test]
    fn marc_import_export_and_intake_are_for_librarians() {
        for method in ["ImportMarc", "ExportMarc", "IntakeIsbn"] {
            assert_eq!(access(&format!("/lectern.catalog.v1.MarcService/{method}")), Some(Access::Librarian));
        }
        assert_eq!(access("/lectern.catalog.v1.MarcService/Other"), None);
    }
}
