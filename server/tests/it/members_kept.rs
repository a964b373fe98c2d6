//! A server keeps each fleet's members while they do not change (the 100,000-member overview
//! would otherwise read and decode every row on every look): every write to a member, by this
//! server, by another on the same database, or straight in SQL, is seen by the next read.

use crate::common;
use app::model::member::{ClusterResourceId, Member, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName};
use app::model::time::Timestamp;
use server::store::{Expect, FleetStore, SqlStore};
use std::sync::Arc;

fn spec(cluster: &str, group: Option<&str>) -> MemberSpec {
    MemberSpec {
        cluster_resource_id: ClusterResourceId::parse(cluster).unwrap(),
        group: group.map(|g| GroupName::parse(g).unwrap()),
        labels: Default::default(),
        taints: Vec::new(),
    }
}

fn name(text: &str) -> MemberName {
    MemberName::parse(text).unwrap()
}

/// What a reader sees of the fleet: each member's name, group and labels.
async fn seen(store: &SqlStore, fleet: &FleetName) -> Vec<String> {
    let members = store.members(fleet).await.unwrap();
    members.iter().map(describe).collect()
}

fn describe(m: &Member) -> String {
    let group = m.spec.group.as_ref().map_or("-", GroupName::as_str);
    format!("{} {group} {:?}", m.name, m.spec.labels)
}

#[tokio::test]
async fn members_read_again_follow_every_write_from_any_server() {
    let db = common::temp_db();
    let a = SqlStore::connect(&db).await.unwrap();
    let b = SqlStore::connect(&db).await.unwrap();
    let fleet = FleetName::parse("f").unwrap();
    let now = Timestamp(0);
    a.put_fleet(&fleet, now).await.unwrap();
    assert!(seen(&b, &fleet).await.is_empty());

    let m1 = a
        .create_member(&fleet, &name("m1"), &spec("sim:c1", None), now)
        .await
        .unwrap();
    assert_eq!(seen(&b, &fleet).await, ["m1 - {}"]);
    let kept = b.members(&fleet).await.unwrap();
    assert!(
        Arc::ptr_eq(&kept, &b.members(&fleet).await.unwrap()),
        "unchanged members are kept, not read again"
    );

    let m1 = a
        .replace_member(&m1, &spec("sim:c1", Some("g1")))
        .await
        .unwrap();
    assert_eq!(seen(&b, &fleet).await, ["m1 g1 {}"]);
    a.set_groups(&[m1], Some(&GroupName::parse("g2").unwrap()))
        .await
        .unwrap();
    assert_eq!(seen(&b, &fleet).await, ["m1 g2 {}"]);

    // The reader's own write, then one in SQL behind every server's back.
    b.create_member(&fleet, &name("m2"), &spec("sim:c2", None), now)
        .await
        .unwrap();
    assert_eq!(seen(&a, &fleet).await, ["m1 g2 {}", "m2 - {}"]);
    let pool = common::raw_pool(&db).await;
    sqlx::query("UPDATE members SET labels = '{\"tier\":\"gold\"}' WHERE name = 'm2'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        seen(&b, &fleet).await,
        ["m1 g2 {}", "m2 - {\"tier\": \"gold\"}"]
    );

    assert!(
        a.delete_member(&fleet, &name("m1"), Expect::Any)
            .await
            .unwrap()
    );
    assert_eq!(seen(&b, &fleet).await, ["m2 - {\"tier\": \"gold\"}"]);

    // A fleet deleted and made again under its name is a new fleet, with new members.
    assert!(a.delete_fleet(&fleet).await.unwrap());
    assert!(seen(&b, &fleet).await.is_empty());
    a.put_fleet(&fleet, now).await.unwrap();
    assert!(seen(&b, &fleet).await.is_empty());
    a.create_member(&fleet, &name("m3"), &spec("sim:c3", None), now)
        .await
        .unwrap();
    assert_eq!(seen(&b, &fleet).await, ["m3 - {}"]);
}
