//! Members: joining, replacing, grouping, removing, and observing their clusters.

use super::{Drydock, expectation, provider_error, store_error};
use crate::provider::ProviderError;
use app::model::access::{Caller, Role};
use app::model::cluster::ClusterState;
use app::model::error::AppError;
use app::model::member::{ClusterResourceId, Member, MemberSpec, validate_labels, validate_taints};
use app::model::names::{FleetName, GroupName, MemberName};
use app::model::precondition::Precondition;
use std::collections::BTreeMap;

/// A member with what its provider observes of its cluster.
pub struct MemberView {
    pub member: Member,
    /// The provider answering for its cluster (`None`: no provider understands its id).
    pub provider: Option<String>,
    pub observed: Result<ClusterState, ProviderError>,
    /// What was last seen of the cluster, when the latest observation failed.
    pub last_seen: Option<ClusterState>,
}

pub(crate) fn member_not_found(fleet: &FleetName, name: &MemberName) -> AppError {
    AppError::not_found(
        "MemberNotFound",
        format!("Fleet {fleet} has no member named {name}."),
    )
}

impl Drydock {
    /// Checks what a spec points at: labels, and a cluster the provider can see.
    async fn check_spec(&self, spec: &MemberSpec) -> Result<(), AppError> {
        validate_labels(&spec.labels).map_err(|m| AppError::invalid("InvalidLabels", m))?;
        validate_taints(&spec.taints).map_err(|m| AppError::invalid("InvalidTaints", m))?;
        let observed = self
            .providers
            .observe(std::slice::from_ref(&spec.cluster_resource_id))
            .await;
        match observed.into_iter().next() {
            Some(Ok(_)) => Ok(()),
            Some(Err(error)) => Err(provider_error(error)),
            None => Err(AppError::internal()),
        }
    }

    /// Rejects a cluster another member already points at, in this fleet or another: a cluster
    /// is a member of one fleet only (as in Azure), or two fleets' runs could upgrade it at once.
    async fn check_not_joined(
        &self,
        fleet: &FleetName,
        cluster: &ClusterResourceId,
        except: &MemberName,
    ) -> Result<(), AppError> {
        let holders = self
            .store
            .members_of_cluster(cluster)
            .await
            .map_err(store_error)?;
        match holders.iter().find(|(f, m)| !(f == fleet && m == except)) {
            Some((other_fleet, holder)) => Err(AppError::conflict(
                "ClusterAlreadyMember",
                format!(
                    "Cluster {cluster} is already member {holder} of fleet {other_fleet}; a cluster can be a member of one fleet only."
                ),
            )),
            None => Ok(()),
        }
    }

    /// Adds a member; an existing member of that name is a conflict.
    pub async fn create_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        spec: MemberSpec,
    ) -> Result<Member, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        if self
            .store
            .get_member(fleet, name)
            .await
            .map_err(store_error)?
            .is_some()
        {
            return Err(AppError::conflict(
                "MemberAlreadyExists",
                format!("Fleet {fleet} already has a member named {name}."),
            ));
        }
        self.check_spec(&spec).await?;
        self.check_not_joined(fleet, &spec.cluster_resource_id, name)
            .await?;
        self.store
            .create_member(fleet, name, &spec, self.clock.now())
            .await
            .map_err(store_error)
    }

    /// Creates or replaces a member (ARM `PUT`) as the precondition allows; `true` when
    /// created. A replace is a compare-and-set on the etag the precondition was checked at.
    pub async fn put_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        spec: MemberSpec,
        precondition: &Precondition,
    ) -> Result<(MemberView, bool), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let existing = self
            .store
            .get_member(fleet, name)
            .await
            .map_err(store_error)?;
        precondition.check(&format!("Member {name}"), existing.as_ref().map(|m| m.etag))?;
        let member = match existing {
            None => self.create_member(caller, fleet, name, spec).await?,
            Some(current) => {
                self.check_spec(&spec).await?;
                self.check_not_joined(fleet, &spec.cluster_resource_id, name)
                    .await?;
                self.store
                    .replace_member(&current, &spec)
                    .await
                    .map_err(store_error)?
            }
        };
        let created = member.etag == 1;
        Ok((self.view(member).await, created))
    }

    pub async fn get_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
    ) -> Result<MemberView, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let member = self
            .store
            .get_member(fleet, name)
            .await
            .map_err(store_error)?;
        let member = member.ok_or_else(|| member_not_found(fleet, name))?;
        Ok(self.view(member).await)
    }

    pub async fn list_members(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<MemberView>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let members = self.store.list_members(fleet).await.map_err(store_error)?;
        Ok(self.views(members).await)
    }

    /// Removes a member from its fleet: its cluster is not upgraded any more, and the objects
    /// placements gave it are removed from it first (a member leaves nothing of the fleet's
    /// behind). A member whose cluster a run is upgrading is removed only with `force`: the
    /// removal does not stop that upgrade (the run finishes it and reports it), so the caller
    /// is told first; `force` also removes a member whose cluster cannot answer now, leaving
    /// placed objects there.
    pub async fn delete_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        force: bool,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let member = self
            .store
            .get_member(fleet, name)
            .await
            .map_err(store_error)?;
        let expect = expectation(
            precondition,
            &format!("Member {name}"),
            member.as_ref().map(|m| m.etag),
        )?;
        let Some(member) = member else {
            return Ok(false);
        };
        let lease = self
            .runs
            .lease_of(&member.spec.cluster_resource_id)
            .await
            .map_err(store_error)?;
        if let Some(lease) = lease.filter(|_| !force) {
            return Err(AppError::conflict(
                "MemberBeingUpgraded",
                format!(
                    "Member {name} is being upgraded by {} (operation {}). Removing it does not stop that upgrade: the run finishes it and reports it. Remove it with force to do so anyway.",
                    lease.holder(),
                    lease.operation_id
                ),
            ));
        }
        self.unplace(fleet, &member, force).await?;
        self.store
            .delete_member(fleet, name, expect)
            .await
            .map_err(store_error)
    }

    /// Puts every named member into `group` (or none), all or nothing.
    pub async fn set_group(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        names: &[MemberName],
        group: Option<&GroupName>,
    ) -> Result<usize, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let mut all: BTreeMap<MemberName, Member> = self
            .store
            .list_members(fleet)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|m| (m.name.clone(), m))
            .collect();
        let mut chosen = Vec::with_capacity(names.len());
        for name in names {
            // `remove` also drops a name listed twice to a single update.
            match all.remove(name) {
                Some(member) => chosen.push(member),
                None if chosen.iter().any(|m: &Member| &m.name == name) => {}
                None => return Err(member_not_found(fleet, name)),
            }
        }
        self.store
            .set_groups(&chosen, group)
            .await
            .map_err(store_error)?;
        Ok(chosen.len())
    }

    async fn view(&self, member: Member) -> MemberView {
        self.views(vec![member])
            .await
            .pop()
            .expect("one member in, one view out")
    }

    pub(super) async fn views(&self, members: Vec<Member>) -> Vec<MemberView> {
        let ids: Vec<ClusterResourceId> = members
            .iter()
            .map(|m| m.spec.cluster_resource_id.clone())
            .collect();
        let observed = self.runtime.observe(&ids).await;
        members
            .into_iter()
            .zip(observed)
            .map(|(member, (observed, last_seen))| MemberView {
                provider: self.providers.provider_of(&member.spec.cluster_resource_id),
                member,
                observed,
                last_seen,
            })
            .collect()
    }
}
