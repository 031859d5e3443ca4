// Admin: every account, paged and filtered, with role changes, block/unblock and deactivation.
import { useState } from 'react'
import { Button, ErrorMessage, PageHeader, Spinner, formatDate } from '../../components/ui'
import { ApiError } from '../../lib/api'
import { useSession } from '../../lib/session'
import { fullName, type Role, type User } from '../../lib/types'
import { useResource } from '../../lib/useResource'
import { changeRole, deactivateUser, listUsers, toggleBlock } from './api'
import { Badge, ConfirmDialog, Notice, Pagination, Table, cell } from './components'
import { FilterForm, FilterSelect, FilterText } from './filters'
import { filterQuery } from './paging'
import { ROLES } from './types'
import { useListState } from './useListState'

const initialFilters = { role: '', search: '' }

type NoticeState = { tone: 'ok' | 'error'; text: string } | null

function errorText(error: unknown): string {
  return error instanceof ApiError ? error.message : 'The action failed.'
}

function StatusBadges({ user }: { user: User }) {
  return (
    <span className="flex flex-wrap gap-1">
      {!user.is_active ? <Badge tone="slate">Deactivated</Badge> : user.is_blocked ? <Badge tone="red">Blocked</Badge> : <Badge tone="green">Active</Badge>}
    </span>
  )
}

export default function UsersPage() {
  const { user: me } = useSession()
  const list = useListState(initialFilters)
  const { filters, skip, limit } = list
  const users = useResource((signal) => listUsers({ ...filterQuery(filters), skip, limit }, signal), [filters, skip, limit])
  const [busyId, setBusyId] = useState<number | null>(null)
  const [notice, setNotice] = useState<NoticeState>(null)
  const [confirming, setConfirming] = useState<User | null>(null)

  const replace = (id: number, patch: Partial<User>) =>
    users.setData((page) => page && { ...page, items: page.items.map((item) => (item.id === id ? { ...item, ...patch } : item)) })

  async function run(user: User, action: () => Promise<Partial<User>>, success: string | ((patch: Partial<User>) => string)) {
    setBusyId(user.id)
    setNotice(null)
    try {
      const patch = await action()
      replace(user.id, patch)
      setNotice({ tone: 'ok', text: typeof success === 'string' ? success : success(patch) })
    } catch (error) {
      setNotice({ tone: 'error', text: errorText(error) })
    } finally {
      setBusyId(null)
    }
  }

  const onRole = (user: User, role: Role) =>
    run(user, () => changeRole(user.id, role), `${fullName(user)} is now ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}.`)

  const onBlock = (user: User) =>
    run(
      user,
      async () => ({ is_blocked: (await toggleBlock(user.id)).is_blocked }),
      // The endpoint toggles: report what the server did, not what this (possibly stale) row expected.
      (patch) => `${fullName(user)} was ${patch.is_blocked ? 'blocked' : 'unblocked'}.`,
    )

  async function onDeactivate() {
    if (!confirming) return
    const user = confirming
    await run(user, async () => ({ is_active: (await deactivateUser(user.id)).is_active }), `${fullName(user)} was deactivated.`)
    setConfirming(null)
  }

  const page = users.data
  return (
    <div>
      <PageHeader title="Users">Manage roles and access. Changes take effect at once, live connections included.</PageHeader>
      <Notice notice={notice} onDismiss={() => setNotice(null)} />
      <FilterForm label="Filter users">
        <FilterText list={list} name="search" label="Search name or email" type="search" data-testid="users-search" />
        <FilterSelect list={list} name="role" label="Role" all="All roles" options={ROLES} />
      </FilterForm>

      {users.error && <ErrorMessage error={users.error} onRetry={users.reload} />}
      {!page && !users.error && <Spinner />}
      {page && (
        <div aria-busy={users.loading}>
          {page.items.length === 0 ? (
            <p className="py-8 text-center text-sm text-slate-500 dark:text-slate-400">No user matches these filters.</p>
          ) : (
            <Table caption="Users" head={['Name', 'Email', 'Role', 'Status', 'Joined', 'Last sign-in', 'Actions']}>
              {page.items.map((user) => {
                const self = user.id === me?.id
                const busy = busyId === user.id
                return (
                  <tr key={user.id} data-testid="users-row" data-user-id={user.id}>
                    <td className={`${cell} font-medium`}>
                      {fullName(user)}
                      {self && <span className="ml-1 text-xs text-slate-500">(you)</span>}
                    </td>
                    <td className={`${cell} break-all`}>{user.email}</td>
                    <td className={cell}>
                      <label className="sr-only" htmlFor={`role-${user.id}`}>
                        Role of {fullName(user)}
                      </label>
                      <select
                        id={`role-${user.id}`}
                        value={user.role}
                        disabled={self || busy || !user.is_active}
                        title={self ? 'You cannot change your own role' : undefined}
                        onChange={(event) => void onRole(user, event.target.value as Role)}
                        data-testid="users-role"
                        className="rounded-md border border-slate-300 bg-white px-2 py-1 disabled:opacity-60 dark:border-slate-600 dark:bg-slate-900"
                      >
                        {ROLES.map((role) => (
                          <option key={role} value={role}>
                            {role}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td className={cell}>
                      <StatusBadges user={user} />
                    </td>
                    <td className={`${cell} whitespace-nowrap`}>{formatDate(user.created_at)}</td>
                    <td className={`${cell} whitespace-nowrap`}>{formatDate(user.last_login_at)}</td>
                    <td className={cell}>
                      {self ? (
                        <span className="text-xs text-slate-500 dark:text-slate-400">Not on your own account</span>
                      ) : (
                        <div className="flex flex-wrap gap-2">
                          <Button
                            variant="secondary"
                            disabled={busy || !user.is_active}
                            onClick={() => void onBlock(user)}
                            aria-label={`${user.is_blocked ? 'Unblock' : 'Block'} ${fullName(user)}`}
                            data-testid="users-block"
                          >
                            {user.is_blocked ? 'Unblock' : 'Block'}
                          </Button>
                          <Button
                            variant="danger"
                            disabled={busy || !user.is_active}
                            onClick={() => setConfirming(user)}
                            aria-label={`Deactivate ${fullName(user)}`}
                            data-testid="users-deactivate"
                          >
                            Deactivate
                          </Button>
                        </div>
                      )}
                    </td>
                  </tr>
                )
              })}
            </Table>
          )}
          <Pagination label="Users" total={page.total} skip={skip} limit={limit} shown={page.items.length} onSkip={list.setSkip} onLimit={list.setLimit} />
        </div>
      )}

      <ConfirmDialog
        open={confirming !== null}
        title="Deactivate this account?"
        confirmLabel="Deactivate"
        busy={confirming !== null && busyId === confirming.id}
        onCancel={() => setConfirming(null)}
        onConfirm={() => void onDeactivate()}
      >
        {confirming && (
          <p>
            {fullName(confirming)} ({confirming.email}) will be signed out everywhere and can no longer sign in. This cannot be
            undone from here.
          </p>
        )}
      </ConfirmDialog>
    </div>
  )
}
