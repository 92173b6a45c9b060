# The github application of the Cedar OOPSLA'24 benchmark in Rego: the same policy as
# github.gov and github.cedar, in the idiom of the benchmark's own github.rego
# (graph.reachable over the membership graph and the action hierarchy), with the graphs in
# data rather than input.
# data.memberships: node -> [node]: a user to their teams, organizations and roles, a team
# to its parent teams and roles, an organization to its roles; a role is named
# "<repo or org>_<role>" ("repo_3_writers", "org_1_admins"), as in the Cedar entities.
# data.owner: repo -> org.
package github

import rego.v1

action_groups := {
	"read": ["triage"],
	"triage": ["write"],
	"write": ["maintain"],
	"maintain": ["admin"],
	"admin": [],
}

role_action := {
	"readers": "read",
	"triagers": "triage",
	"writers": "write",
	"maintainers": "maintain",
	"admins": "admin",
}

# The actions whose holders may do the requested one (write -> write, maintain, admin).
applicable := graph.reachable(action_groups, [input.action])

# Every team, organization and role the user holds, directly or through others.
held := graph.reachable(data.memberships, [input.user])

allow if {
	some role, action in role_action
	action in applicable
	concat("_", [input.repo, role]) in held
}

# The owner organization's roles pass on to its repositories.
allow if {
	some role, action in role_action
	action in applicable
	concat("_", [data.owner[input.repo], role]) in held
}

decision := "allow" if {
	allow
} else := "deny"
