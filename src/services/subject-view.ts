import type { CustomerBody, OverrideBody, UserBody } from '../schemas/subjects.js'
import type { Customer, Override, User } from './subject-service.js'

/** The API representations of customers, users and overrides: snake_case, ISO timestamps (as flag-view.ts for flags). */
export const toCustomerBody = (c: Customer): CustomerBody => ({ id: c.id, name: c.name, created_at: c.createdAt.toISOString() })
export const toUserBody = (u: User): UserBody => ({ id: u.id, customer_id: u.customerId, created_at: u.createdAt.toISOString() })
export const toOverrideBody = (o: Override): OverrideBody => ({
  flag: o.flag, subject: o.subject, id: o.id, enabled: o.enabled, variant: o.variant, updated_at: o.updatedAt.toISOString()
})
