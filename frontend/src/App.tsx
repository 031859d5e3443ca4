// Every route of the single-page app. Pages load lazily so the admin charts never weigh on learners.
import { lazy, Suspense, type ComponentType, type LazyExoticComponent } from 'react'
import { BrowserRouter, Route, Routes } from 'react-router'
import { Layout } from './components/Layout'
import { RequireRole } from './components/RequireRole'
import { Spinner } from './components/ui'
import { SessionProvider } from './lib/session'
import type { Role } from './lib/types'

const page = (load: () => Promise<{ default: ComponentType }>): LazyExoticComponent<ComponentType> => lazy(load)

const HomePage = page(() => import('./features/courses/HomePage'))
const CatalogPage = page(() => import('./features/courses/CatalogPage'))
const CoursePage = page(() => import('./features/courses/CoursePage'))
const LoginPage = page(() => import('./features/auth/LoginPage'))
const RegisterPage = page(() => import('./features/auth/RegisterPage'))
const GoogleCallbackPage = page(() => import('./features/auth/GoogleCallbackPage'))
const ProfilePage = page(() => import('./features/auth/ProfilePage'))
const DashboardPage = page(() => import('./features/learning/DashboardPage'))
const MyLearningPage = page(() => import('./features/learning/MyLearningPage'))
const LessonPlayerPage = page(() => import('./features/lessons/LessonPlayerPage'))
const DiscussionsPage = page(() => import('./features/discussions/DiscussionsPage'))
const LeaderboardPage = page(() => import('./features/leaderboard/LeaderboardPage'))
const MessagesPage = page(() => import('./features/messages/MessagesPage'))
const TeachingPage = page(() => import('./features/courses/TeachingPage'))
const CourseEditorPage = page(() => import('./features/courses/CourseEditorPage'))
const ActivityPage = page(() => import('./features/activity/ActivityPage'))
const AnalyticsPage = page(() => import('./features/analytics/AnalyticsPage'))
const UsersPage = page(() => import('./features/admin/UsersPage'))
const AdminCoursesPage = page(() => import('./features/admin/AdminCoursesPage'))
const ReportsPage = page(() => import('./features/admin/ReportsPage'))
const AuditPage = page(() => import('./features/admin/AuditPage'))
const NotFoundPage = page(() => import('./components/NotFoundPage'))

const signedIn: Role[] = ['learner', 'instructor', 'admin']
const teaching: Role[] = ['instructor', 'admin']

function guarded(Component: ComponentType, roles: Role[]) {
  return (
    <RequireRole roles={roles}>
      <Component />
    </RequireRole>
  )
}

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter>
        <Suspense fallback={<Spinner />}>
          <Routes>
            <Route element={<Layout />}>
              <Route index element={<HomePage />} />
              <Route path="courses" element={<CatalogPage />} />
              <Route path="courses/:courseId" element={<CoursePage />} />
              <Route path="login" element={<LoginPage />} />
              <Route path="register" element={<RegisterPage />} />
              <Route path="auth/google/callback" element={<GoogleCallbackPage />} />
              <Route path="profile" element={guarded(ProfilePage, signedIn)} />
              <Route path="dashboard" element={guarded(DashboardPage, signedIn)} />
              <Route path="my-learning" element={guarded(MyLearningPage, ['learner'])} />
              <Route path="courses/:courseId/learn" element={guarded(LessonPlayerPage, signedIn)} />
              <Route path="courses/:courseId/learn/:lessonId" element={guarded(LessonPlayerPage, signedIn)} />
              <Route path="courses/:courseId/discussions" element={guarded(DiscussionsPage, signedIn)} />
              <Route path="courses/:courseId/leaderboard" element={guarded(LeaderboardPage, signedIn)} />
              <Route path="messages" element={guarded(MessagesPage, signedIn)} />
              <Route path="messages/:partnerId" element={guarded(MessagesPage, signedIn)} />
              <Route path="teach" element={guarded(TeachingPage, teaching)} />
              <Route path="teach/courses/new" element={guarded(CourseEditorPage, teaching)} />
              <Route path="teach/courses/:courseId" element={guarded(CourseEditorPage, teaching)} />
              <Route path="teach/activity" element={guarded(ActivityPage, teaching)} />
              <Route path="admin/analytics" element={guarded(AnalyticsPage, ['admin'])} />
              <Route path="admin/users" element={guarded(UsersPage, ['admin'])} />
              <Route path="admin/courses" element={guarded(AdminCoursesPage, ['admin'])} />
              <Route path="admin/reports" element={guarded(ReportsPage, teaching)} />
              <Route path="admin/audit" element={guarded(AuditPage, teaching)} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Routes>
        </Suspense>
      </BrowserRouter>
    </SessionProvider>
  )
}
