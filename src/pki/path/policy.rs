//! The valid-policy tree of RFC 5280 §6.1.

use der::asn1::ObjectIdentifier as Oid;

use super::oids;

/// A node of the valid-policy tree (RFC 5280 §6.1.2 (a)).
#[derive(Debug, Clone)]
struct PolicyNode {
    policy: Oid,
    expected: Vec<Oid>,
    parent: usize,
    alive: bool,
}

/// The valid-policy tree, one level per certificate; `None` is the NULL tree.
pub(super) struct PolicyTree(Option<Vec<Vec<PolicyNode>>>);

impl PolicyTree {
    pub(super) fn new() -> Self {
        PolicyTree(Some(vec![vec![PolicyNode {
            policy: oids::ANY_POLICY,
            expected: vec![oids::ANY_POLICY],
            parent: 0,
            alive: true,
        }]]))
    }

    /// Removes childless nodes above `depth`, and the tree if the root goes.
    fn prune(&mut self, depth: usize) {
        let Some(levels) = self.0.as_mut() else { return };
        for d in (0..depth).rev() {
            let (upper, lower) = levels.split_at_mut(d + 1);
            let below = lower.first();
            for (i, n) in upper[d].iter_mut().enumerate() {
                if n.alive && !below.is_some_and(|b| b.iter().any(|c| c.alive && c.parent == i)) {
                    n.alive = false;
                }
            }
        }
        if !levels[0][0].alive {
            self.0 = None;
        }
    }

    /// (d)–(e): adds level `i` for a certificate's policies.
    pub(super) fn add_level(&mut self, i: usize, policies: Option<&[Oid]>, any_allowed: bool) {
        let Some(policies) = policies else {
            self.0 = None;
            return;
        };
        let Some(levels) = self.0.as_mut() else { return };
        let prev = &levels[i - 1];
        let mut level: Vec<PolicyNode> = Vec::new();
        let child = |policy: Oid, parent| PolicyNode {
            policy,
            expected: vec![policy],
            parent,
            alive: true,
        };
        for p in policies.iter().filter(|p| **p != oids::ANY_POLICY) {
            let matched: Vec<usize> = (0..prev.len())
                .filter(|&j| prev[j].alive && prev[j].expected.contains(p))
                .collect();
            if matched.is_empty() {
                for (j, n) in prev.iter().enumerate() {
                    if n.alive && n.policy == oids::ANY_POLICY {
                        level.push(child(*p, j));
                    }
                }
            } else {
                level.extend(matched.into_iter().map(|j| child(*p, j)));
            }
        }
        if any_allowed && policies.contains(&oids::ANY_POLICY) {
            for (j, n) in prev.iter().enumerate().filter(|(_, n)| n.alive) {
                for e in &n.expected {
                    if !level.iter().any(|c| c.parent == j && c.policy == *e) {
                        level.push(child(*e, j));
                    }
                }
            }
        }
        levels.push(level);
        self.prune(i);
    }

    /// (b) of §6.1.4: applies policy mappings at level `i`.
    pub(super) fn map(&mut self, i: usize, mappings: &[(Oid, Oid)], mapping_allowed: bool) {
        let Some(levels) = self.0.as_mut() else { return };
        let mut issuer_policies: Vec<Oid> = mappings.iter().map(|m| m.0).collect();
        issuer_policies.sort();
        issuer_policies.dedup();
        for p in issuer_policies {
            let subjects: Vec<Oid> = mappings.iter().filter(|m| m.0 == p).map(|m| m.1).collect();
            let level = &mut levels[i];
            if mapping_allowed {
                let mut found = false;
                for n in level.iter_mut().filter(|n| n.alive && n.policy == p) {
                    n.expected = subjects.clone();
                    found = true;
                }
                if !found && let Some(any) = level.iter().find(|n| n.alive && n.policy == oids::ANY_POLICY) {
                    let parent = any.parent;
                    level.push(PolicyNode {
                        policy: p,
                        expected: subjects,
                        parent,
                        alive: true,
                    });
                }
            } else {
                for n in level.iter_mut().filter(|n| n.policy == p) {
                    n.alive = false;
                }
            }
        }
        if !mapping_allowed {
            self.prune(i);
        }
    }

    /// Whether the tree is NULL (no valid policy left).
    pub(super) fn is_null(&self) -> bool {
        self.0.is_none()
    }

    pub(super) fn accepts(&self, depth: usize, policy: &Oid) -> bool {
        self.0.as_ref().is_some_and(|levels| {
            levels.get(depth).is_some_and(|l| {
                l.iter()
                    .any(|n| n.alive && (n.policy == *policy || n.policy == oids::ANY_POLICY))
            })
        })
    }
}
