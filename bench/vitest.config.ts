import { workspaceTestConfig } from '../vitest.shared.js'

export default workspaceTestConfig({ hookTimeout: 60_000 })
