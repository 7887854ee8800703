// The web UI's size baseline (#8): the least app on the same stack, Vue and vue-router with one
// route, built by the same Vite and Vue plugin.
import { createApp, h } from 'vue';
import { createRouter, createWebHistory, RouterView } from 'vue-router';

const router = createRouter({ history: createWebHistory(), routes: [{ path: '/', component: { render: () => h('p', 'Hello') } }] });
createApp({ render: () => h(RouterView) }).use(router).mount('#app');
