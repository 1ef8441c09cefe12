import { Alert, Stack } from '@mantine/core'
import { useEffect, useMemo, type FormEvent, type ReactNode } from 'react'
import { useSession } from '../../api/session.js'
import './targeting/readonly.css'
import type { FlagPanelProps } from './panel.js'
import { EditorContext, type Editor } from './targeting/context.js'
import { FallthroughSection } from './targeting/FallthroughSection.js'
import { ConflictNotice, SaveBar, SaveError } from './targeting/FormNotices.js'
import { KillSwitch } from './targeting/KillSwitch.js'
import { RulesSection } from './targeting/RulesSection.js'
import { TargetsSection } from './targeting/TargetsSection.js'
import { useTargetingForm } from './targeting/useTargetingForm.js'
import { VariantsSection } from './targeting/VariantsSection.js'

/**
 * The Targeting tab: how the flag is served in one environment. The kill switch is saved at once;
 * the rest (variants, default and off variant, individual targets, rules, the fallthrough) is a form
 * saved with Save as one merge patch with If-Match, in the order evaluation tries them (SPEC §2.4).
 * Unsaved changes survive the stream's refreshes; a newer version meanwhile is announced, not applied.
 */
export function TargetingPanel (props: FlagPanelProps): ReactNode {
  // Another environment or flag is another form: its state must not carry over.
  return <TargetingEditor key={`${props.environment}/${props.flag.name}`} {...props} />
}

function TargetingEditor ({ flag, environment, canWrite }: FlagPanelProps): ReactNode {
  const session = useSession()
  const form = useTargetingForm(flag, environment)
  const { draft, setDraft } = form
  const editor = useMemo<Editor>(() => ({
    disabled: !canWrite,
    type: draft.type,
    variantNames: draft.variants.map((v) => v.name),
    problems: form.problems
  }), [canWrite, draft, form.problems])

  // Leaving the page (reload, closing the tab) with unsaved changes asks first.
  const { dirty } = form
  useEffect(() => {
    if (!dirty) return
    const warn = (event: BeforeUnloadEvent): void => { event.preventDefault() }
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [dirty])

  function submit (event: FormEvent): void {
    event.preventDefault()
    if (canWrite) form.save()
  }

  return (
    <Stack className={canWrite ? undefined : 'flagpost-readonly'}>
      {!canWrite && <Alert color='dark' variant='outline' data-testid='read-only'>{session.readOnlyReason}. Everything is shown; nothing can be changed here.</Alert>}
      <KillSwitch flag={flag} environment={environment} disabled={!canWrite} />
      <EditorContext.Provider value={editor}>
        <form onSubmit={submit} noValidate aria-label={`Targeting of ${flag.name} in ${environment}`}>
          <Stack>
            <ConflictNotice form={form} />
            <VariantsSection draft={draft} onChange={setDraft} environment={environment} />
            <TargetsSection draft={draft} onChange={setDraft} />
            <RulesSection draft={draft} onChange={setDraft} />
            <FallthroughSection draft={draft} onChange={setDraft} />
            <SaveError form={form} />
            <SaveBar form={form} disabled={!canWrite} />
          </Stack>
        </form>
      </EditorContext.Provider>
    </Stack>
  )
}
