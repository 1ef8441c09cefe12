import { lazy, type ComponentType } from 'react'
import { FlagsPage } from './FlagsPage.js'

// The flag list is the first page after sign-in: in the main bundle. The others are fetched when first
// opened (a chunk each), so the first load carries only what it shows (bench/ui.ts measures both).
const FlagPage = lazy(async () => ({ default: (await import('./FlagPage.js')).FlagPage }))
const ChangesPage = lazy(async () => ({ default: (await import('./ChangesPage.js')).ChangesPage }))
const EnvironmentsPage = lazy(async () => ({ default: (await import('./EnvironmentsPage.js')).EnvironmentsPage }))
const CustomersPage = lazy(async () => ({ default: (await import('./CustomersPage.js')).CustomersPage }))
const UsersPage = lazy(async () => ({ default: (await import('./UsersPage.js')).UsersPage }))
const ApiKeysPage = lazy(async () => ({ default: (await import('./ApiKeysPage.js')).ApiKeysPage }))

export interface PageEntry {
  /** The route, under /ui (wouter syntax). */
  path: string
  /** Where the navigation links to; pages without one are reached from others. */
  href?: string
  label?: string
  component: ComponentType
  /** Only shown to admin keys (the API refuses the others anyway). */
  adminOnly?: boolean
}

/** Every page of the UI, in navigation order. */
export const pages: PageEntry[] = [
  { path: '/flags', href: '/flags', label: 'Flags', component: FlagsPage },
  { path: '/flags/:name', component: FlagPage },
  { path: '/history', href: '/history', label: 'History', component: ChangesPage },
  { path: '/environments', href: '/environments', label: 'Environments', component: EnvironmentsPage },
  { path: '/customers', href: '/customers', label: 'Customers', component: CustomersPage },
  { path: '/users', href: '/users', label: 'Users', component: UsersPage },
  { path: '/keys', href: '/keys', label: 'API keys', component: ApiKeysPage, adminOnly: true }
]

export const navigation = pages.filter((p): p is PageEntry & { href: string, label: string } => p.href !== undefined && p.label !== undefined)
