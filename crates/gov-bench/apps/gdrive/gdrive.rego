# The gdrive application of the Cedar OOPSLA'24 benchmark in Rego: the same policy as
# gdrive.gov and gdrive.cedar, in the idiom of the benchmark's own gdrive.rego
# (graph.reachable over the sharing graph), with the graphs in data rather than input.
# data.children: node -> [node]: a user to the items shared with them and to their groups,
# a group to the items shared with it, a folder to the items in it.
# data.folder_parents: item -> [folder]; data.public: document -> true;
# data.owned_documents, data.owned_folders: user -> [item].
package gdrive

import rego.v1

owner_actions := {"read", "write", "share"}

# A public document may be read by anyone.
allow if {
	input.action == "read"
	data.public[input.resource]
}

# A document reachable from what is shared with the user may be read.
allow if {
	input.action == "read"
	input.resource in graph.reachable(data.children, [input.user])
}

# An owned document may be read, written and shared.
allow if {
	input.action in owner_actions
	input.resource in data.owned_documents[input.user]
}

# So may a document in an owned folder, at any depth.
allow if {
	input.action in owner_actions
	some folder in graph.reachable(data.folder_parents, [input.resource])
	folder in data.owned_folders[input.user]
}

allow if {
	input.action == "changeOwner"
	input.resource in data.owned_documents[input.user]
}

allow if {
	input.action == "createDocument"
	input.resource in data.owned_folders[input.user]
}

decision := "allow" if {
	allow
} else := "deny"
