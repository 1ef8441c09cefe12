import { Text } from '@mantine/core'
import { useEffect, useState, type ReactNode } from 'react'

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 86_400_000], ['month', 30 * 86_400_000], ['week', 7 * 86_400_000],
  ['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000]
]
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
const exact = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** The exact time, in the reader's locale and time zone. */
export const exactTime = (at: string): string => exact.format(new Date(at))

/** "just now", "5 minutes ago", "yesterday"… */
export function timeAgo (at: Date, now: number): string {
  const elapsed = now - at.getTime()
  if (elapsed < 45_000) return 'just now'
  for (const [unit, ms] of UNITS) {
    if (elapsed >= ms) return relative.format(-Math.floor(elapsed / ms), unit)
  }
  return relative.format(-1, 'minute')
}

/** The time now, moving on every `every` ms, so that "5 minutes ago" stays true while the page is open. */
function useNow (every = 30_000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), every)
    return () => clearInterval(timer)
  }, [every])
  return now
}

/** When a change was made: relative ("5 minutes ago"), with the exact time beside it and in the element. */
export function When ({ at }: { at: string }): ReactNode {
  const now = useNow()
  const date = new Date(at)
  return (
    <Text span size='sm'>
      <time dateTime={at} title={exact.format(date)}>{timeAgo(date, now)}</time>
      <Text span size='xs' c='dimmed'> · {exact.format(date)}</Text>
    </Text>
  )
}
