// Run bench/peers.py's requests through iam-simulate (npm @cloud-copilot/iam-simulate), as a
// program of its own. bench/peers.py --install puts the package in bench/.peers/node_modules.
//   node bench/peer_iam_simulate.mjs REQUESTS.jsonl > DECISIONS.jsonl
// Prints, per request, the decision of each (action, resource) pair in AWS's order: true or false.
import { createReadStream } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(join(here, '.peers', 'package.json'))
const { runSimulation } = require('@cloud-copilot/iam-simulate')

const lines = createInterface({ input: createReadStream(process.argv[2]), crlfDelay: Infinity })
const out = []
for await (const line of lines) {
  if (!line) continue
  const r = JSON.parse(line)
  const account = r.CallerArn.split(':')[4]
  const identityPolicies = (r.PolicyInputList || []).map((doc, i) => ({ name: `p${i}`, policy: JSON.parse(doc) }))
  const permissionBoundaryPolicies = (r.PermissionsBoundaryPolicyInputList || []).map((doc, i) => ({ name: `b${i}`, policy: JSON.parse(doc) }))
  const levels = r.ServiceControlPolicyInputList || []
  const serviceControlPolicies = levels.map((level, i) => ({
    orgIdentifier: i === 0 ? 'r-root' : i === levels.length - 1 ? account : `ou-level-${i}`,
    policies: level.map((doc, j) => ({ name: `scp${i}${j}`, policy: JSON.parse(doc) }))
  }))
  const resourcePolicy = r.ResourcePolicy ? JSON.parse(r.ResourcePolicy) : undefined
  const contextVariables = {}
  for (const e of r.ContextEntries || []) {
    contextVariables[e.ContextKeyName] = e.ContextKeyValues.length === 1 ? e.ContextKeyValues[0] : e.ContextKeyValues
  }
  const decisions = []
  for (const action of r.ActionNames) {
    for (const resource of r.ResourceArns) {
      const simulation = {
        identityPolicies,
        serviceControlPolicies,
        resourceControlPolicies: [],
        resourcePolicy,
        permissionBoundaryPolicies: permissionBoundaryPolicies.length ? permissionBoundaryPolicies : undefined,
        request: { principal: r.CallerArn, action, resource: { resource, accountId: account }, contextVariables }
      }
      const response = await runSimulation(simulation, {})
      decisions.push(response.resultType === 'error' ? 'error' : response.overallResult === 'Allowed')
    }
  }
  out.push(JSON.stringify(decisions))
  if (out.length >= 1000) {
    process.stdout.write(out.join('\n') + '\n')
    out.length = 0
  }
}
if (out.length) process.stdout.write(out.join('\n') + '\n')
