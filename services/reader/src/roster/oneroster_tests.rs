//! Reading OneRoster 1.1 exports.

use super::*;

const YEAR: &str = "2026-2027";

const ORGS: &str = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n\
    d1,active,,District,district,,\n\
    o1,active,,Xuhui Primary,school,XH-PRI,d1\n\
    o2,active,,Other Primary,school,OT-PRI,d1\n";

const USERS: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,\
    givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
    u1,active,,true,o1,student,wxm,,小明,王,,S001,,,,,03,\n\
    u2,active,,true,\"o1,o2\",teacher,li.t,,Lan,Li,,T001,,,,,,\n\
    u3,tobedeleted,,true,o1,student,zs,,三,张,,S002,,,,,03,\n\
    u4,active,,true,o1,parent,p1,,Da,Wang,,,,,,,,\n\
    u5,active,,true,o2,student,other,,A,B,,S900,,,,,03,\n\
    u6,active,,false,o1,student,,,Alice,Smith,Jane,S003,,,,,04,\n";

const CLASSES: &str = "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,\
    location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n\
    c1,active,,三年级(1)班,03,k1,,homeroom,,o1,t1,,,\n\
    c2,active,,Maths 3,03,k2,,scheduled,,o1,t1,,,\n\
    c3,active,,四年级(2)班,04,k1,,homeroom,,o1,,,,\n";

const ENROLLMENTS: &str = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary\n\
    e1,active,,c1,o1,u1,student,\n\
    e2,active,,c2,o1,u1,student,\n\
    e3,active,,c1,o1,u2,teacher,true\n\
    e4,active,,c3,o1,u6,student,\n";

const SESSIONS: &str = "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n\
    t1,active,,2025-26,schoolYear,2025-09-01,2026-07-10,,2026\n";

fn files<'a>(extra: &[(&'a str, &'a str)]) -> Vec<File<'a>> {
    let mut all = vec![
        ("ORGS.csv", ORGS),
        ("export/users.csv", USERS),
        ("classes.csv", CLASSES),
        ("enrollments.csv", ENROLLMENTS),
        ("academicSessions.csv", SESSIONS),
    ];
    for (name, text) in extra {
        all.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        all.push((name, text));
    }
    all.into_iter().map(|(name, text)| File { name, bytes: text.as_bytes() }).collect()
}

fn messages(errors: &[LineError]) -> Vec<String> {
    errors
        .iter()
        .map(|error| format!("{}:{} {}: {}", error.file, error.line, error.column, error.message))
        .collect()
}

#[test]
fn the_schools_people_and_homerooms_are_read() {
    let roster = read(&files(&[]), "XH-PRI", YEAR).unwrap();
    let people: Vec<(&str, &str, &str, bool)> = roster
        .readers
        .iter()
        .map(|reader| (reader.number.as_str(), reader.name.as_str(), reader.category.as_str(), reader.active))
        .collect();
    assert_eq!(
        people,
        vec![
            ("S001", "王小明", "student", true),
            ("T001", "Lan Li", "teacher", true),
            ("S002", "张三", "student", false),
            ("S003", "Alice Jane Smith", "student", false),
        ]
    );
    // The parent and the other school's student.
    assert_eq!(roster.skipped, 2);
    assert_eq!(
        roster.notes,
        vec![
            "1 users are parents, guardians or relatives: not readers, skipped",
            "1 users belong to other schools only: skipped"
        ]
    );
    let class = roster.readers[0].class.clone().unwrap();
    assert_eq!(
        (class.name.as_str(), class.grade, class.school_year.as_str()),
        ("三年级(1)班", 3, "2025-2026")
    );
    // No term: the import's year.
    assert_eq!(roster.readers[3].class.as_ref().unwrap().school_year, YEAR);
    assert_eq!(roster.readers[1].class, None);
    assert!(!roster.partial);
}

#[test]
fn unknown_class_and_user_references_are_errors() {
    let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n\
        e1,active,,c1,o1,u1,student\n\
        e2,active,,c9,o1,u1,student\n\
        e3,active,,c1,o1,u99,student\n";
    let errors = read(&files(&[("enrollments.csv", enrollments)]), "XH-PRI", YEAR).unwrap_err();
    assert_eq!(
        messages(&errors),
        vec![
            "enrollments.csv:3 classSourcedId: unknown class \"c9\": not in classes.csv",
            "enrollments.csv:4 userSourcedId: unknown user \"u99\": not in users.csv",
        ]
    );
}

#[test]
fn the_school_must_be_in_orgs() {
    let errors = read(&files(&[]), "NO-SUCH", YEAR).unwrap_err();
    assert_eq!(
        messages(&errors),
        vec!["ORGS.csv:0 : no org of type school has identifier NO-SUCH (the Lectern school's code)"]
    );
}

#[test]
fn missing_files_wrong_columns_and_duplicates_are_reported() {
    let only_users: Vec<File<'_>> = vec![File { name: "users.csv", bytes: USERS.as_bytes() }];
    assert_eq!(
        messages(&read(&only_users, "XH-PRI", YEAR).unwrap_err()),
        vec!["orgs.csv:0 : the export has no orgs.csv"]
    );
    let bad_users = "sourcedId,status,givenName\nu1,active,A\n";
    let errors = read(&files(&[("users.csv", bad_users)]), "XH-PRI", YEAR).unwrap_err();
    assert_eq!(
        messages(&errors),
        vec![
            "users.csv:1 role: the header has no column \"role\"",
            "users.csv:1 orgSourcedIds: the header has no column \"orgSourcedIds\"",
        ]
    );
    let twice = format!("{USERS}u7,active,,true,o1,student,x,,B,C,,S001,,,,,03,\n");
    let errors = read(&files(&[("users.csv", &twice)]), "XH-PRI", YEAR).unwrap_err();
    assert_eq!(messages(&errors), vec!["users.csv:8 identifier: number S001 is also on line 2"]);
}

#[test]
fn a_delta_manifest_makes_the_roster_partial_and_1_2_is_refused() {
    let delta = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,delta\n";
    assert!(read(&files(&[("manifest.csv", delta)]), "XH-PRI", YEAR).unwrap().partial);
    let newer = "propertyName,value\noneroster.version,1.2\n";
    let errors = read(&files(&[("manifest.csv", newer)]), "XH-PRI", YEAR).unwrap_err();
    assert_eq!(
        messages(&errors),
        vec!["manifest.csv:2 value: OneRoster 1.2 is not supported: export OneRoster 1.1"]
    );
}

#[test]
fn names_follow_the_writing() {
    assert_eq!(full_name("小明", "", "王"), "王小明");
    assert_eq!(full_name("Alice", "", "Smith"), "Alice Smith");
}
