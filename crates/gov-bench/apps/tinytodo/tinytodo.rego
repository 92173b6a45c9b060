# The tinytodo application of the Cedar OOPSLA'24 benchmark in Rego: the same policy as
# tinytodo.gov and tinytodo.cedar, in the idiom of the benchmark's own tinytodo.rego
# (graph.reachable over the team graph), with the graph in data rather than input.
# data.parents: user or team -> [team]; data.lists: list -> {owner, readers, editors}.
package tinytodo

import rego.v1

public_actions := {"CreateList", "GetLists"}

edit_actions := {"UpdateList", "CreateTask", "UpdateTask", "DeleteTask"}

# The user and every team they are in, directly or through teams inside teams.
teams := graph.reachable(data.parents, [input.user])

allow if {
	input.action in public_actions
	input.resource == "TinyTodo"
}

allow if {
	data.lists[input.resource].owner == input.user
}

allow if {
	input.action == "GetList"
	data.lists[input.resource].readers in teams
}

allow if {
	input.action == "GetList"
	data.lists[input.resource].editors in teams
}

allow if {
	input.action in edit_actions
	data.lists[input.resource].editors in teams
}

decision := "allow" if {
	allow
} else := "deny"
