# Role-based access control with a role hierarchy: the same policy as rbac.gov.
# data.user_roles: user -> [role]; data.role_parents: role -> [parent] (the roles it
# inherits from); data.permissions: role -> [{"action", "type"}];
# data.resource_types: resource -> type; data.suspended: user -> true.
package rbac

import rego.v1

# Every role the user holds, directly or through inheritance.
roles contains r if {
	some r in graph.reachable(data.role_parents, data.user_roles[input.user])
}

permitted if {
	t := data.resource_types[input.resource]
	some r in roles
	some p in data.permissions[r]
	p.action == input.action
	p.type == t
}

decision := "deny" if {
	data.suspended[input.user]
} else := "allow" if {
	permitted
} else := "deny"
