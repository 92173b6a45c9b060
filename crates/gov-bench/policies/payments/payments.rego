# Payments: the same policy as payments.gov.
# data.roles: agent -> role; data.limits: role -> max; data.sanctioned,
# data.known_payees: account -> true; data.frozen: agent -> true.
# input: {"agent", "amount", "to"}.
package payments

import rego.v1

max := data.limits[data.roles[input.agent]]

deny contains "over_limit" if input.amount > max

deny contains "sanctioned_payee" if data.sanctioned[input.to]

deny contains "frozen_agent" if data.frozen[input.agent]

escalate contains "big_transfer" if input.amount > 10000

escalate contains "risky" if risk_score >= 50

risk contains ["new_payee", 30] if not data.known_payees[input.to]

risk contains ["large_amount", 20] if input.amount > 5000

risk_score := sum([p | some [_, p] in risk])

allow if input.amount <= max

decision := "deny" if {
	count(deny) > 0
} else := "escalate" if {
	count(escalate) > 0
} else := "allow" if {
	allow
} else := "deny"
