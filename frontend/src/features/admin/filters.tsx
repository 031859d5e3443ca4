// The filter forms of the admin tables: fields bound to one filter of a ListState.
import type { ComponentProps, ReactNode } from 'react'
import { SelectField, TextField } from '../../components/ui'
import { DebouncedTextField } from './components'
import type { ListState } from './useListState'

type Filters = Record<string, string>
type Bound<F extends Filters> = { list: ListState<F>; name: keyof F & string; label: string }

export interface FilterOption {
  value: string | number
  label: ReactNode
}

export const YES_NO: FilterOption[] = [
  { value: '', label: 'Any' },
  { value: 'true', label: 'Yes' },
  { value: 'false', label: 'No' },
]

/** A search form that never submits (filters apply as they change); `wide` puts three columns from lg up, not md. */
export function FilterForm({ label, wide = false, children }: { label: string; wide?: boolean; children: ReactNode }) {
  return (
    <form
      className={wide ? 'mb-4 grid gap-3 sm:grid-cols-2 lg:grid-cols-3' : 'mb-4 grid gap-3 sm:grid-cols-2 md:grid-cols-3'}
      role="search"
      aria-label={label}
      onSubmit={(event) => event.preventDefault()}
    >
      {children}
    </form>
  )
}

/** A select over one filter: an optional "all" entry (value ''), then the options (a string is its own label). */
export function FilterSelect<F extends Filters>({
  list,
  name,
  label,
  all,
  options,
}: Bound<F> & { all?: string; options: readonly (string | FilterOption)[] }) {
  return (
    <SelectField label={label} value={list.filters[name]} onChange={(event) => list.setFilter(name, event.target.value)}>
      {all !== undefined && <option value="">{all}</option>}
      {options.map((option) =>
        typeof option === 'string' ? (
          <option key={option} value={option}>
            {option}
          </option>
        ) : (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ),
      )}
    </SelectField>
  )
}

/** A debounced text filter; `datalist` is the id of its suggestions (the input's `list` attribute). */
export function FilterText<F extends Filters>({
  list,
  name,
  datalist,
  ...props
}: Bound<F> & { datalist?: string } & Omit<ComponentProps<typeof DebouncedTextField>, 'value' | 'onCommit' | 'list'>) {
  return <DebouncedTextField {...props} list={datalist} value={list.filters[name]} onCommit={(value) => list.setFilter(name, value)} />
}

/** An immediate (not debounced) filter input, e.g. a date. */
export function FilterInput<F extends Filters>({ list, name, ...props }: Bound<F> & Omit<ComponentProps<typeof TextField>, 'value' | 'onChange' | 'list'>) {
  return <TextField {...props} value={list.filters[name]} onChange={(event) => list.setFilter(name, event.target.value)} />
}
