import { Badge } from '@mantine/core'
import type { ReactNode } from 'react'

/**
 * Filled badges in shades dark enough for white text at AA contrast (axe-core checks every page):
 * Mantine's light variants and mid shades of green and orange are not.
 */
export const TONES = { good: 'teal.9', neutral: 'gray.7', warning: 'red.9', info: 'indigo.9' } as const

export function StateBadge ({ tone, children, testId }: { tone: keyof typeof TONES, children: ReactNode, testId?: string }): ReactNode {
  return <Badge color={TONES[tone]} variant='filled' data-testid={testId}>{children}</Badge>
}

/** A flag's kill switch in one environment. */
export const OnOff = ({ on }: { on: boolean }): ReactNode => <StateBadge tone={on ? 'good' : 'neutral'}>{on ? 'on' : 'off'}</StateBadge>
