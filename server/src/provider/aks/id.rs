//! AKS clusters' Azure Resource Manager ids, compared without regard to case as ARM does
//! (Drydock keeps them in lower case: `ClusterResourceId::parse`).

use app::model::member::ClusterResourceId;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AksId {
    pub subscription: String,
    pub resource_group: String,
    pub name: String,
}

impl AksId {
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}`.
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').collect();
        match parts.as_slice() {
            [
                "",
                "subscriptions",
                sub,
                "resourcegroups",
                rg,
                "providers",
                "microsoft.containerservice",
                "managedclusters",
                name,
            ] if [sub, rg, name].iter().all(|p| !p.is_empty()) => Some(Self {
                subscription: (*sub).to_owned(),
                resource_group: (*rg).to_owned(),
                name: (*name).to_owned(),
            }),
            _ => None,
        }
    }

    /// The path of the cluster on ARM.
    pub fn path(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.subscription, self.resource_group, self.name
        )
    }

    pub fn resource_id(&self) -> ClusterResourceId {
        ClusterResourceId::parse(&self.path()).expect("an ARM path is a valid cluster id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_refuses_other_resources() {
        let id = AksId::parse(
            "/subscriptions/AB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/Prod",
        )
        .unwrap();
        assert_eq!((id.subscription.as_str(), id.name.as_str()), ("ab", "prod"));
        assert!(id.path().ends_with("/managedClusters/prod"));
        assert!(
            AksId::parse(
                "/subscriptions/ab/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/x"
            )
            .is_none()
        );
        assert!(AksId::parse("sim:prod").is_none());
    }
}
