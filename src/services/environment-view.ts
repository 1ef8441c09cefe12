import type { Environment } from './environment-service.js'

/** An environment as the API and the CLI's --json show it. */
export interface EnvironmentBody { key: string, name: string, position: number, created_at: string }

export const toEnvironmentBody = (environment: Environment): EnvironmentBody =>
  ({ key: environment.key, name: environment.name, position: environment.position, created_at: environment.createdAt.toISOString() })
