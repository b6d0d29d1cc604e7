import { workspaceTestConfig } from '../../vitest.shared.js'

export default workspaceTestConfig({ globalSetup: ['test/setup/global.ts'] }, ['prisma-'])
