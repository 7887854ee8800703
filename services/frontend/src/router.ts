import { createRouter, createWebHistory } from 'vue-router';
import { getStatus } from './api/client';
import StatusView from './views/StatusView.vue';
import SetupView from './views/SetupView.vue';
import AdminView from './views/AdminView.vue';

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'status', component: StatusView },
    { path: '/setup', name: 'setup', component: SetupView },
    { path: '/admin', name: 'admin', component: AdminView },
    { path: '/:unknown(.*)*', redirect: '/' },
  ],
});

// Ask the server on every navigation: another tab or the server itself may have finished setup.
router.beforeEach(async (to) => {
  const status = await getStatus().catch(() => null);
  // Server unreachable: let the page load and show the problem rather than block navigation.
  if (!status) return true;
  if (!status.configured && status.state !== 'error' && to.name !== 'setup') {
    return { name: 'setup', query: to.query }; // keeps ?token= from a link in the server log
  }
  if (status.configured && to.name === 'setup') return { name: 'status' };
  return true;
});
