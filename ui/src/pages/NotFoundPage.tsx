import { Alert, Anchor } from '@mantine/core'
import type { ReactNode } from 'react'
import { Link } from 'wouter'

export function NotFoundPage (): ReactNode {
  return (
    <Alert color='yellow' title='No such page' role='alert'>
      There is nothing at this address. <Anchor component={Link} href='/flags'>Go to the flags</Anchor>.
    </Alert>
  )
}
