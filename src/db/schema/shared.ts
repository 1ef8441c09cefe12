/** One override, as the change log names it: [flag name, subject, subject id]. */
export type OverrideKey = [string, 'customer' | 'user', string]
